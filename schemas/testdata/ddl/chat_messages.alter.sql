ALTER TABLE `chat_lake`.`chat_messages` ADD COLUMNS (
  `editor_s_note` string COMMENT 'editor\'s note',
  `sentiment` double COMMENT 'sentiment',
  `ttl` bigint COMMENT 'ttl',
  `read_by` map<string,bigint> COMMENT 'readBy',
  `reactions` map<string,string> COMMENT 'reactions',
  `tips` map<string,decimal(10,2)> COMMENT 'tips'
);
