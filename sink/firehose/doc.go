// Package firehose sends flat rows to Amazon Data Firehose, which converts
// them to Parquet with the table's Glue schema and writes them to the lake
// with dynamic partitioning.
//
// A row becomes one record: a flat JSON object, newline-terminated, with
// the metadata columns, every non-null data column under its column name,
// and the partition fields dt (and hr when hourly) that the delivery
// stream's JQ metadata extraction reads:
//
//	{"_event_name":"INSERT","_event_id":"4b2f...","_event_time":"2026-04-01 12:30:05.123",
//	 "_sequence_number":"0000...0001","_ttl_delete":false,"_extra":null,
//	 "room_id":"r1","price":12.50,"avatar":"iVBORw0K...","tags":["a","b"],"dt":"2026-04-01"}
//
// Values follow the column type: bigint and decimal as JSON numbers
// (decimals written from their exact text, never through a float),
// double as a number (NaN and infinities are left out, i.e. null), boolean
// as true/false, binary as standard base64, json and string as strings,
// arrays as JSON arrays. A null cell is left out; Firehose's deserializer
// reads a missing field as null.
//
// Timestamps (_event_time and timestamp columns) are written as UTC text
// "YYYY-MM-DD HH:MM:SS.mmm". Firehose's record format conversion parses
// that form with both of its JSON deserializers without configuration
// (the OpenX JSON SerDe lists "yyyy-[M]M-[d]d HH:mm:ss[.S]"; the Hive JSON
// SerDe defaults to java.sql.Timestamp.valueOf, which reads the same
// form). Epoch milliseconds are not used: the OpenX SerDe takes an integer
// of fewer than 13 digits as seconds, so millisecond times before
// 2001-09-09 would be read 1000 times too large, and the Hive SerDe needs
// TimestampFormats ["millis"] to read them at all.
//
// Sender delivers records with PutRecordBatch: at most 500 records and
// 4 MiB per call, a record over 1,000 KiB refused before sending (for the
// caller's quarantine), and only the failed entries of a partial failure
// sent again, with exponential backoff and full jitter. It stops before the
// context's deadline and reports exactly which records were not delivered,
// by the caller's record index, so that a Lambda can return
// batchItemFailures from the first of them on.
//
// Destination is the sink.Destination over a Sender: it encodes a
// table's rows, sends them, and reports the refused rows as set aside and
// the undelivered ones as failed.
//
// Example:
//
//	client := awsfirehose.NewFromConfig(cfg, firehose.WithoutSDKRetries)
//	sender, err := firehose.New(client, firehose.Config{Stream: "ddblake-{table}"})
//	...
//	var recs firehose.Records
//	for i, row := range rows {
//		recs.Add(i, schema, &row, schema.Hourly)
//	}
//	res, err := sender.Send(ctx, recs.Entries())
//	if i, ok := res.FirstUndelivered(); ok {
//		// report records i.. as batchItemFailures
//	}
//	for _, e := range res.Refused {
//		// quarantine record e.Index: e.Err says why
//	}
package firehose
