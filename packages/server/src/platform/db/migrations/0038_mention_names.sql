CREATE TABLE "mention_names" (
	"app_id" uuid NOT NULL,
	"name" text NOT NULL,
	"user_id" text,
	"group_id" uuid,
	CONSTRAINT "mention_names_app_id_name_pk" PRIMARY KEY("app_id","name"),
	CONSTRAINT "mention_names_one_holder" CHECK (("mention_names"."user_id" is null) <> ("mention_names"."group_id" is null))
);
--> statement-breakpoint
ALTER TABLE "mention_names" ADD CONSTRAINT "mention_names_app_id_user_id_users_app_id_id_fk" FOREIGN KEY ("app_id","user_id") REFERENCES "public"."users"("app_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mention_names" ADD CONSTRAINT "mention_names_app_id_group_id_user_groups_app_id_id_fk" FOREIGN KEY ("app_id","group_id") REFERENCES "public"."user_groups"("app_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "mention_names_user_idx" ON "mention_names" USING btree ("app_id","user_id");--> statement-breakpoint
CREATE INDEX "mention_names_group_idx" ON "mention_names" USING btree ("app_id","group_id");--> statement-breakpoint
-- A group whose handle is already someone's username (which the group routes refused, but not
-- the other way round) gets a new handle, `<handle>-group` (then -group2, …): the person keeps
-- their name, and the audit log says what changed and why.
DO $$
DECLARE
  g record;
  candidate text;
  n int;
BEGIN
  FOR g IN
    SELECT ug.app_id, ug.id, ug.handle FROM user_groups ug
    WHERE EXISTS (SELECT 1 FROM users u WHERE u.app_id = ug.app_id AND lower(u.username) = lower(ug.handle))
  LOOP
    n := 1;
    LOOP
      candidate := left(g.handle, 56) || '-group' || CASE WHEN n = 1 THEN '' ELSE n::text END;
      EXIT WHEN NOT EXISTS (SELECT 1 FROM users u WHERE u.app_id = g.app_id AND lower(u.username) = lower(candidate))
        AND NOT EXISTS (SELECT 1 FROM user_groups o WHERE o.app_id = g.app_id AND lower(o.handle) = lower(candidate));
      n := n + 1;
    END LOOP;
    UPDATE user_groups SET handle = candidate, updated_at = now() WHERE app_id = g.app_id AND id = g.id;
    INSERT INTO audit_log (app_id, actor_kind, actor_id, action, target_kind, target_id, details)
    VALUES (g.app_id, 'system', NULL, 'user_group.updated', 'user_group', g.id::text, jsonb_build_object(
      'before', jsonb_build_object('handle', g.handle),
      'after', jsonb_build_object('handle', candidate),
      'changed', jsonb_build_array('handle'),
      'reason', 'handle_was_a_username'));
  END LOOP;
END $$;
--> statement-breakpoint
INSERT INTO mention_names (app_id, name, user_id)
SELECT app_id, lower(username), id FROM users WHERE username IS NOT NULL;
--> statement-breakpoint
INSERT INTO mention_names (app_id, name, group_id)
SELECT app_id, lower(handle), id FROM user_groups;
--> statement-breakpoint
-- Kept from here on by the rows themselves. AFTER triggers: the name is claimed in the same
-- statement as the write, so a clash fails that statement (23505 on mention_names' key), and
-- of two transactions claiming one name the second waits for the first and then fails.
CREATE FUNCTION parley_user_mention_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.username IS NOT NULL THEN
    DELETE FROM mention_names WHERE app_id = OLD.app_id AND name = lower(OLD.username) AND user_id = OLD.id;
  END IF;
  IF NEW.username IS NOT NULL THEN
    INSERT INTO mention_names (app_id, name, user_id) VALUES (NEW.app_id, lower(NEW.username), NEW.id);
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER users_mention_name_insert AFTER INSERT ON users FOR EACH ROW
  WHEN (NEW.username IS NOT NULL) EXECUTE FUNCTION parley_user_mention_name();
--> statement-breakpoint
CREATE TRIGGER users_mention_name_update AFTER UPDATE OF username ON users FOR EACH ROW
  WHEN (OLD.username IS DISTINCT FROM NEW.username) EXECUTE FUNCTION parley_user_mention_name();
--> statement-breakpoint
CREATE FUNCTION parley_group_mention_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    DELETE FROM mention_names WHERE app_id = OLD.app_id AND name = lower(OLD.handle) AND group_id = OLD.id;
  END IF;
  INSERT INTO mention_names (app_id, name, group_id) VALUES (NEW.app_id, lower(NEW.handle), NEW.id);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER user_groups_mention_name_insert AFTER INSERT ON user_groups FOR EACH ROW
  EXECUTE FUNCTION parley_group_mention_name();
--> statement-breakpoint
CREATE TRIGGER user_groups_mention_name_update AFTER UPDATE OF handle ON user_groups FOR EACH ROW
  WHEN (OLD.handle IS DISTINCT FROM NEW.handle) EXECUTE FUNCTION parley_group_mention_name();
