CREATE SEQUENCE "public"."channel_count_epoch" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1;--> statement-breakpoint
CREATE TABLE "channel_count_epochs" (
	"app_id" uuid NOT NULL,
	"cid" text NOT NULL,
	"epoch" bigint DEFAULT nextval('channel_count_epoch') NOT NULL,
	CONSTRAINT "channel_count_epochs_app_id_cid_pk" PRIMARY KEY("app_id","cid")
);
--> statement-breakpoint
ALTER TABLE "channel_count_epochs" ADD CONSTRAINT "channel_count_epochs_app_id_cid_channels_app_id_cid_fk" FOREIGN KEY ("app_id","cid") REFERENCES "public"."channels"("app_id","cid") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
-- Kept by the rows themselves. A channel made gets a new epoch (so a channel deleted and made
-- again under its cid never has the epoch of the one before; its row went with it). A channel's
-- messages changed in a way the unread counts read (reads/queries.ts `countable`, the author,
-- the seq, @channel), or gone, give it a new one. A new message needs none: it comes after every
-- kept pass. No send writes this table, so a send never waits here nor deadlocks with an edit or
-- a delete across channels.
CREATE FUNCTION parley_count_epoch_made() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO channel_count_epochs (app_id, cid) SELECT app_id, cid FROM made ORDER BY 1, 2
    ON CONFLICT (app_id, cid) DO UPDATE SET epoch = excluded.epoch;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION parley_count_epoch_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO channel_count_epochs (app_id, cid)
    SELECT app_id, cid FROM channels WHERE app_id = OLD.app_id AND cid = OLD.cid
    ON CONFLICT (app_id, cid) DO UPDATE SET epoch = excluded.epoch;
  IF NEW.app_id <> OLD.app_id OR NEW.cid <> OLD.cid THEN
    INSERT INTO channel_count_epochs (app_id, cid)
      SELECT app_id, cid FROM channels WHERE app_id = NEW.app_id AND cid = NEW.cid
      ON CONFLICT (app_id, cid) DO UPDATE SET epoch = excluded.epoch;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
-- Messages gone (`gone`, the statement's transition table): a channel being deleted with them
-- is already gone and gets no row.
CREATE FUNCTION parley_count_epoch_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO channel_count_epochs (app_id, cid)
    SELECT c.app_id, c.cid FROM channels c
    WHERE (c.app_id, c.cid) IN (SELECT DISTINCT app_id, cid FROM gone)
    ORDER BY 1, 2
    ON CONFLICT (app_id, cid) DO UPDATE SET epoch = excluded.epoch;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER channels_count_epoch_made AFTER INSERT ON channels REFERENCING NEW TABLE AS made
  FOR EACH STATEMENT EXECUTE FUNCTION parley_count_epoch_made();
--> statement-breakpoint
CREATE TRIGGER messages_count_epoch_moved AFTER UPDATE ON messages FOR EACH ROW
  WHEN (OLD.type IS DISTINCT FROM NEW.type OR OLD.parent_id IS DISTINCT FROM NEW.parent_id
    OR OLD.show_in_channel IS DISTINCT FROM NEW.show_in_channel OR OLD.shadowed IS DISTINCT FROM NEW.shadowed
    OR OLD.mentioned_channel IS DISTINCT FROM NEW.mentioned_channel OR OLD.user_id IS DISTINCT FROM NEW.user_id
    OR OLD.seq IS DISTINCT FROM NEW.seq OR OLD.cid IS DISTINCT FROM NEW.cid OR OLD.app_id IS DISTINCT FROM NEW.app_id)
  EXECUTE FUNCTION parley_count_epoch_moved();
--> statement-breakpoint
CREATE TRIGGER messages_count_epoch_gone AFTER DELETE ON messages REFERENCING OLD TABLE AS gone
  FOR EACH STATEMENT EXECUTE FUNCTION parley_count_epoch_gone();
