package decode

import "github.com/ddblake/ddblake/internal/eventtest"

// Records for tests; see eventtest.
var (
	streamRecord  = eventtest.StreamRecord
	event         = eventtest.Event
	kinesisData   = eventtest.KinesisData
	kinesisRecord = eventtest.KinesisRecord
)

const (
	year10000Seconds = eventtest.Year10000Seconds
	year10000Millis  = eventtest.Year10000Millis
	year10000Micros  = eventtest.Year10000Micros
)
