// Package ionexport reads the data files of DynamoDB exports written in
// Amazon Ion (export format ION), text or binary, and turns each item
// into the DynamoDB JSON line that the same export in DYNAMODB_JSON
// holds, so that one decoder reads both and an item gives the same row
// whichever format it came in.
//
// An Ion export line such as
//
//	$ion_1_0 {Item:{Id:103.,Authors:$dynamodb_SS::["A","B"],Cover:{{aGk=}}}}
//
// becomes
//
//	{"Item":{"Id":{"N":"103"},"Authors":{"SS":["A","B"]},"Cover":{"B":"aGk="}}}
//
// Ion decimals and integers become N, their digits kept exactly and
// spelled as DynamoDB spells numbers (Java's BigDecimal.toString: 1d125
// is "1E+125", 1.50 is "1.50", -0. is "-0"); strings become S, blobs B
// (base64), booleans BOOL, null NULL, structs M, lists L, and lists
// annotated $dynamodb_SS, $dynamodb_NS or $dynamodb_BS the sets SS, NS
// and BS. The top-level members (Item; Metadata, Keys, NewImage,
// OldImage) are structs of attributes, or null. Whether the attributes
// are valid DynamoDB values (number ranges, empty sets, names, nesting)
// is left to the JSON decoder, so that both formats fail alike.
//
// What DynamoDB cannot hold (an Ion float, timestamp, symbol, clob,
// sexp, typed null, an unknown annotation, a string escape naming no
// Unicode character such as \ud800) makes its item an *ItemError
// naming the attribute path; the item's line is still returned, the
// value in question written as {"ion":"<its Ion text>"}, so that the
// item can be set aside as JSON and the rest go on. Ion that cannot be
// read further (truncated, malformed, larger than the bound) is a
// *StreamError naming the item and the byte offset.
//
// Example:
//
//	r := ionexport.NewReader(gzipBody, 64<<20)
//	for {
//		line, err := r.Next()
//		if err == io.EOF {
//			break
//		}
//		// line is a DynamoDB JSON export line; err an *ItemError or a
//		// *StreamError (after which Next returns it again).
//	}
package ionexport
