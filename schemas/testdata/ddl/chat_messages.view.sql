CREATE OR REPLACE VIEW "chat_lake"."chat_messages_latest" AS
SELECT
  "_event_name",
  "_event_id",
  "_event_time",
  "_sequence_number",
  "_ttl_delete",
  "_extra",
  "_old_image",
  "room_id",
  "sk",
  "message_id",
  "sender_user_id",
  "sender_profile_display_name",
  "sender_profile_image_url",
  "body",
  "created_at",
  "tip_amount",
  "tags",
  "reaction_counts",
  "attachment",
  "thumbnails",
  "is_edited",
  "metadata",
  "col_791889c5",
  "content_type",
  "editor_s_note",
  "sentiment",
  "ttl",
  "read_by",
  "reactions",
  "tips",
  "dt"
FROM (
  SELECT
    *,
    row_number() OVER (
      PARTITION BY "room_id", "sk"
      ORDER BY "_event_time" DESC NULLS LAST, "_sequence_number" DESC NULLS LAST
    ) AS "_latest_rank"
  FROM "chat_lake"."chat_messages"
) AS "ranked"
WHERE "_latest_rank" = 1
  AND "_event_name" <> 'REMOVE';
