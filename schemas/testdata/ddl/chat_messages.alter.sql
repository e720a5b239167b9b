ALTER TABLE `chat_lake`.`chat_messages` ADD COLUMNS (
  `editor_s_note` string COMMENT 'editor\'s note',
  `sentiment` double COMMENT 'sentiment',
  `ttl` bigint COMMENT 'ttl'
);
