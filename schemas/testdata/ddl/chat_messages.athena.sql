CREATE EXTERNAL TABLE IF NOT EXISTS `chat_lake`.`chat_messages` (
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
  `tips` map<string,decimal(10,2)> COMMENT 'tips'
)
PARTITIONED BY (
  `dt` string COMMENT 'day of _event_time (UTC), YYYY-MM-DD'
)
ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'
STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://acme-data-lake/ddblake/chat_messages/_symlink_format_manifest/'
TBLPROPERTIES (
  'projection.enabled'='true',
  'projection.dt.type'='date',
  'projection.dt.range'='2026-03-28,NOW',
  'projection.dt.format'='yyyy-MM-dd',
  'projection.dt.interval'='1',
  'projection.dt.interval.unit'='DAYS',
  'storage.location.template'='s3://acme-data-lake/ddblake/chat_messages/_symlink_format_manifest/dt=${dt}/',
  'parquet.compression'='ZSTD',
  'classification'='parquet'
);
