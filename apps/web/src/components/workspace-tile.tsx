/**
 * A workspace's logo (asked at twice its drawn size), or the first letter of its name on a tile
 * (also when the logo fails to load).
 */
import { imageUrlAt } from '@parley/protocol';
import { useState } from 'react';

export function WorkspaceTile({
  workspace,
  large = false,
}: {
  workspace: { name: string; logo?: string | null };
  large?: boolean;
}) {
  const cls = `app-workspace-tile${large ? ' app-workspace-tile--large' : ''}`;
  const [failed, setFailed] = useState<string | null>(null);
  if (workspace.logo && /^https?:/i.test(workspace.logo) && failed !== workspace.logo) {
    const logo = workspace.logo;
    return (
      <img
        className={`${cls} app-workspace-tile--logo`}
        src={imageUrlAt(logo, large ? 128 : 96)}
        alt=""
        data-testid="workspace-logo"
        onError={() => setFailed(logo)}
      />
    );
  }
  return (
    <span className={cls} aria-hidden="true">
      {workspace.name.trim().charAt(0).toUpperCase() || '?'}
    </span>
  );
}
