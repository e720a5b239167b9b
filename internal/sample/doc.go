// Package sample generates realistic, deterministic DynamoDB change data
// for ddblake's quick start, end-to-end tests and benchmarks.
//
// The workload is a second-hand marketplace's chat service: a
// chat-messages table (partition key roomId, sort key sk "MSG#<ulid>")
// and a chat-rooms table (partition key roomId). A discrete-event
// simulation opens rooms, sends messages in Korean and English (emoji,
// quotes, backslashes, newlines), marks them read, reacts, edits, makes
// offers with two-decimal prices, reserves and completes deals, leaves
// and reopens rooms, hides and restores messages, and lets short-lived
// notices expire by TTL. Items carry every DynamoDB type: nested maps,
// lists of maps, string and number sets, binary thumbnails, lists of
// booleans, NULLs, a JSON object in a string, 38-digit numbers and a
// Korean attribute name. The history is coherent: the new image of one
// change is the old image of the next change of the same item.
//
// The generator writes DynamoDB JSON from its own value model (value.go),
// not with flatten's Attr and AppendItemJSON, on purpose: it is an
// independent oracle, so that the tests that replay its data check the
// decoders and the flattener against inputs they did not write. Only the
// escaping of JSON strings is flatten's (AppendJSONString), and its own
// tests read every output back with encoding/json alone (ddbjson_test.go).
//
// A Generator is seeded; the same Config writes the same bytes. It writes
// the sample set (every input format ddblake reads, each covering one
// period of the history), builds a Lambda event of a given size for
// benchmarks, and streams a full export of any size to disk.
//
// Example:
//
//	g, _ := sample.New(sample.DefaultConfig())
//	sum, err := g.WriteSample(ctx, "testdata/sample")
//	if err != nil {
//		return err
//	}
//	fmt.Println(len(sum.Files), "inputs")
//
//	event, records, _ := g.LambdaEvent(6 << 20) // ~6 MB, one shard
//	_, _ = event, records
//
//	res, _ := g.WriteLargeExport(ctx, "/tmp/big", sample.LargeExport{Size: 1 << 30})
//	fmt.Println(res.Dir, res.Items)
package sample
