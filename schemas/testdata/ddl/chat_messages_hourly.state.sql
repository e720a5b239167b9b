CREATE EXTERNAL TABLE IF NOT EXISTS `chat_lake`.`chat_messages__state` (
  `_event_name` string COMMENT 'INSERT, MODIFY, REMOVE or SNAPSHOT',
  `_event_id` string COMMENT 'DynamoDB stream eventID; empty for exports',
  `_event_time` timestamp COMMENT 'when the change happened (UTC)',
  `_sequence_number` string COMMENT 'stream sequence number, zero-padded to sort as text; empty for exports',
  `_ttl_delete` boolean COMMENT 'REMOVE caused by TTL expiry',
  `_extra` string COMMENT 'attributes or values without a typed column, DynamoDB JSON',
  `_old_image` string COMMENT 'the old image of a MODIFY whose stream carries no new image (OLD_IMAGE), DynamoDB JSON',
  `room_id` string COMMENT 'roomId',
  `sk` string COMMENT 'sk',
  `message_id` string COMMENT 'messageId',
  `sender_user_id` string COMMENT 'sender.userId',
  `sender_profile_display_name` string COMMENT 'sender.profile.displayName',
  `sender_profile_image_url` string COMMENT 'sender.profile.imageUrl',
  `body` string COMMENT 'body',
  `created_at` bigint COMMENT 'createdAt',
  `tip_amount` decimal(12,2) COMMENT 'tip.amount',
  `tags` array<string> COMMENT 'tags',
  `reaction_counts` array<bigint> COMMENT 'reactionCounts',
  `attachment` binary COMMENT 'attachment',
  `thumbnails` array<binary> COMMENT 'thumbnails',
  `is_edited` boolean COMMENT 'isEdited',
  `metadata` string COMMENT 'metadata',
  `col_791889c5` string COMMENT '반응',
  `content_type` string COMMENT 'content\\.type',
  `editor_s_note` string COMMENT 'editor\'s note',
  `sentiment` double COMMENT 'sentiment',
  `ttl` bigint COMMENT 'ttl',
  `read_by` map<string,bigint> COMMENT 'readBy',
  `reactions` map<string,string> COMMENT 'reactions',
  `tips` map<string,decimal(10,2)> COMMENT 'tips',
  `dt` string COMMENT 'day of _event_time (UTC), YYYY-MM-DD',
  `hr` string COMMENT 'hour of _event_time (UTC), HH'
)
PARTITIONED BY (
  `_generation` string COMMENT 'generation of the latest state, as _ddblake/latest/chat_messages.json names it'
)
ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'
STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat'
LOCATION 's3://acme-data-lake/ddblake/_ddblake/latest/chat_messages/'
TBLPROPERTIES (
  'projection.enabled'='true',
  'projection._generation.type'='injected',
  'storage.location.template'='s3://acme-data-lake/ddblake/_ddblake/latest/chat_messages/${_generation}/live/',
  'parquet.compression'='ZSTD',
  'classification'='parquet'
);

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
  "dt",
  "hr"
FROM (
  SELECT
    *,
    row_number() OVER (
      PARTITION BY "room_id", "sk"
      ORDER BY "_event_time" DESC NULLS LAST, "_sequence_number" DESC NULLS LAST
    ) AS "_latest_rank"
  FROM (
    SELECT "_event_name", "_event_id", "_event_time", "_sequence_number", "_ttl_delete", "_extra", "_old_image", "room_id", "sk", "message_id", "sender_user_id", "sender_profile_display_name", "sender_profile_image_url", "body", "created_at", "tip_amount", "tags", "reaction_counts", "attachment", "thumbnails", "is_edited", "metadata", "col_791889c5", "content_type", "editor_s_note", "sentiment", "ttl", "read_by", "reactions", "tips", "dt", "hr"
    FROM "chat_lake"."chat_messages__state" WHERE "_generation" = 'g000012-0123456789abcdef'
    UNION ALL
    SELECT "_event_name", "_event_id", "_event_time", "_sequence_number", "_ttl_delete", "_extra", "_old_image", "room_id", "sk", "message_id", "sender_user_id", "sender_profile_display_name", "sender_profile_image_url", "body", "created_at", "tip_amount", "tags", "reaction_counts", "attachment", "thumbnails", "is_edited", "metadata", "col_791889c5", "content_type", "editor_s_note", "sentiment", "ttl", "read_by", "reactions", "tips", "dt", "hr"
    FROM "chat_lake"."chat_messages" WHERE "dt" > '2026-04-30'
  ) AS "history"
) AS "ranked"
WHERE "_latest_rank" = 1
  AND "_event_name" <> 'REMOVE';
