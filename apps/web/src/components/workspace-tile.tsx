/** A workspace's logo (asked at twice its drawn size), or the first letter of its name on a tile. */
import { imageUrlAt } from '@parley/protocol';

export function WorkspaceTile({
  workspace,
  large = false,
}: {
  workspace: { name: string; logo?: string | null };
  large?: boolean;
}) {
  const cls = `app-workspace-tile${large ? ' app-workspace-tile--large' : ''}`;
  if (workspace.logo && /^https?:/i.test(workspace.logo))
    return (
      <img
        className={`${cls} app-workspace-tile--logo`}
        src={imageUrlAt(workspace.logo, large ? 128 : 96)}
        alt=""
        data-testid="workspace-logo"
      />
    );
  return (
    <span className={cls} aria-hidden="true">
      {workspace.name.trim().charAt(0).toUpperCase() || '?'}
    </span>
  );
}
