-- A channel made gets its count epoch from a row trigger. 0054's statement trigger fired for
-- every INSERT on channels, and each send's batch moves its channels' counters with
-- `insert … on conflict do update` (features/messages/send-batch.ts): one trigger call and an
-- INSERT … SELECT of no row per send. A row trigger fires only for a row inserted.
DROP TRIGGER channels_count_epoch_made ON channels;
--> statement-breakpoint
DROP FUNCTION parley_count_epoch_made();
--> statement-breakpoint
CREATE FUNCTION parley_count_epoch_made() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO channel_count_epochs (app_id, cid) VALUES (NEW.app_id, NEW.cid)
    ON CONFLICT (app_id, cid) DO UPDATE SET epoch = excluded.epoch;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER channels_count_epoch_made AFTER INSERT ON channels FOR EACH ROW
  EXECUTE FUNCTION parley_count_epoch_made();
