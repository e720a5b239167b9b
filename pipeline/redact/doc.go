// Package redact applies a configuration's omit and mask rules to the
// raw bytes of change records, so that what the configuration hides is
// hidden in the quarantine too: a record set aside keeps its bytes for
// whoever fixes it, but not the values nobody may read.
//
// It reads records of every input format (stream and Kinesis records,
// export lines, whole events) with its own lenient JSON reader, which
// keeps the byte offsets of every value: untouched parts are copied as
// they were read, and a record that is not valid JSON to its end still
// gives the part before the break, redacted and closed into valid JSON.
//
// Example:
//
//	rules := flatten.NewRedactor(key, flatten.TableConfig{Mask: []string{"phone"}})
//	res := redact.Record(raw, rules)
//	// res.Raw: raw with dynamodb.NewImage.phone replaced by {"S":"<hex HMAC>"}
package redact
