package decode

// For the tests of package decode_test, which run both paths through the
// Processor.

// ParserOnly turns d's fast path off: every record is decoded by the
// parser path.
func ParserOnly(d *Decoder) { d.parserOnly = true }

// HostileRecords are the records of TestFastPathMatchesParser.
var HostileRecords = hostileRecords
