// Package decode reads every input format of docs/FORMATS.md into
// ChangeRecord values, streaming and in order.
//
// The formats: Lambda DynamoDB stream events and Kinesis events
// (Decoder.DecodeEvent, on the raw payload), stream records one per line,
// plain or gzip (Decoder.Decode), and full or incremental DynamoDB
// exports, whose manifests are followed and whose data files are checked
// against their MD5 and item counts (Decoder.DecodeInput). With
// FormatAuto the format is told by content. A Resolver turns source
// arguments (files, directories, export folders, "-", s3:// URIs) into
// Inputs read through an ObjectReader.
//
// A record is read in one pass over its bytes into a ChangeRecord whose
// images are flatten.Items (see docs/DESIGN.md, Inputs); a record that
// pass does not take on its own (one that is bad in any way, or of a
// rare shape) is read by the JSON parser and flatten.ParseItem instead,
// which the one-pass reader matches record for record, error for error.
//
// Bad data never stops good data: a record that cannot be read reaches
// the callback as a *RecordError holding its raw bytes, to be set aside,
// and the rest go on; an input that cannot be read further ends with an
// *InputError naming the file and the line or record where it broke,
// after every record before the break.
//
// Exported names:
//
//   - ChangeRecord and EventInsert...: one change to one item.
//   - Decoder (NewDecoder, Options), RecordFunc and Event: decoding.
//   - Format (FormatAuto..., Formats, ParseFormat): the input formats.
//   - Input (StreamInput, InputKind), Resolver, ObjectReader, ObjectInfo,
//     LocalFS: where inputs come from.
//   - RecordError, InputError (InputErrors) and the Err... sentinels: what
//     could not be read, and why.
//   - ValidTableName, ValidAccount, ValidRegion, SequencePad: the rules of
//     DynamoDB names and sequence numbers, shared with the configuration
//     and the row's _sequence_number.
//
// Example:
//
//	dec, _ := decode.NewDecoder(decode.Options{})
//	err := dec.DecodeEvent(payload, "event", func(rec *decode.ChangeRecord, rerr *decode.RecordError) error {
//		if rerr != nil {
//			return quarantine(rerr.Table, rerr.Raw, rerr) // set aside; the batch goes on
//		}
//		return batch.Add(rec)
//	})
package decode
