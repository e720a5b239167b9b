package decode

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/schemas"
)

// TestDecodeSource: every input that names its table's ARN gives the
// record's account and region; the rest give none.
func TestDecodeSource(t *testing.T) {
	src := func(account, region string) schemas.Source { return schemas.Source{Account: account, Region: region} }
	at := func(arn string) map[string]string {
		return map[string]string{"eventSourceARN": `"` + arn + `"`}
	}

	// DynamoDB stream records: eventSourceARN.
	r, rerr := one(t, streamRecord(nil, nil))
	require.Nil(t, rerr)
	require.Equal(t, src("123456789012", "ap-northeast-2"), r.SourceOf())
	r, rerr = one(t, streamRecord(at("arn:aws-cn:dynamodb:cn-north-1:000000000042:table/chat-messages/stream/x"), nil))
	require.Nil(t, rerr)
	require.Equal(t, src("000000000042", "cn-north-1"), r.SourceOf())
	for _, arn := range []string{
		"arn:aws:dynamodb:us-east-1::table/chat-messages/stream/x",         // no account
		"arn:aws:dynamodb:us-east-1:12345:table/chat-messages/stream/x",    // not 12 digits
		"arn:aws:dynamodb:US_EAST:123456789012:table/chat-messages/stream", // not a region
	} {
		r, rerr = one(t, streamRecord(at(arn), nil))
		require.Nil(t, rerr, arn)
		require.Equal(t, "chat-messages", r.Table)
		require.False(t, r.SourceOf().Known(), "%s names no source", arn)
	}
	// Two tables in one event: each record its own ARN (the decoder's
	// cache of the last ARN must not leak).
	c := decodeEvent(t, event(streamRecord(nil, nil),
		streamRecord(at("arn:aws:dynamodb:us-west-2:210987654321:table/chat-messages/stream/x"), nil),
		streamRecord(nil, nil)))
	require.NoError(t, c.err)
	require.Equal(t, []schemas.Source{src("123456789012", "ap-northeast-2"), src("210987654321", "us-west-2"), src("123456789012", "ap-northeast-2")},
		[]schemas.Source{c.recs[0].SourceOf(), c.recs[1].SourceOf(), c.recs[2].SourceOf()})

	// Kinesis: the stream ARN's account, the record's awsRegion.
	seq := "49590338271490256608559692538361571095921575989136588898"
	c = decodeEvent(t, event(kinesisRecord(t, seq, kinesisData(map[string]string{"awsRegion": `"eu-west-1"`}, nil))))
	require.NoError(t, c.err)
	require.Equal(t, src("123456789012", "eu-west-1"), c.recs[0].SourceOf())
	c = decodeEvent(t, event(kinesisRecord(t, seq, kinesisData(map[string]string{"awsRegion": ""}, nil))))
	require.NoError(t, c.err)
	require.Equal(t, src("123456789012", "ap-northeast-2"), c.recs[0].SourceOf(), "no awsRegion: the stream's region")
	// A DynamoDB-for-Kinesis record on its own names no account.
	c = decodeReader(t, strings.NewReader(kinesisData(nil, nil)+"\n"), "data.jsonl", FormatJSONL, Options{})
	require.NoError(t, c.err)
	require.Len(t, c.recs, 1)
	require.False(t, c.recs[0].SourceOf().Known())

	// jsonl read with --table and no eventSourceARN: unknown.
	c = decodeReader(t, strings.NewReader(string(readFixture(t, "jsonl/getrecords.jsonl"))), "getrecords.jsonl", FormatJSONL, Options{Table: "chat-users"})
	require.NoError(t, c.err)
	require.NotEmpty(t, c.recs)
	for _, r := range c.recs {
		require.False(t, r.SourceOf().Known())
	}

	// Exports and incremental exports: the summary's tableArn.
	for _, dir := range []string{"export/full", "incremental/chat"} {
		d, err := NewDecoder(Options{})
		require.NoError(t, err)
		inputs, err := (&Resolver{}).Resolve(context.Background(), inputsDir+"/"+dir)
		require.NoError(t, err)
		require.Len(t, inputs, 1)
		var recs []*ChangeRecord
		require.NoError(t, d.DecodeInput(context.Background(), inputs[0], FormatAuto, func(r *ChangeRecord, rerr *RecordError) error {
			require.Nil(t, rerr)
			recs = append(recs, r)
			return nil
		}))
		require.NotEmpty(t, recs, dir)
		for _, r := range recs {
			require.Equal(t, src("123456789012", "ap-northeast-2"), r.SourceOf(), dir)
		}
	}
}
