package schemas_test

import (
	"encoding/json"
	"regexp"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/schemas/firehosedef"
)

var (
	prefixKeyRe = regexp.MustCompile(`!\{partitionKeyFromQuery:([a-z]+)\}`)
	jqKeyRe     = regexp.MustCompile(`([a-z]+):\.([a-z]+)`)
)

func TestFirehoseDestinationJSON(t *testing.T) {
	for _, s := range []*schemas.Schema{sample(t), sampleHourly(t)} {
		raw, err := firehosedef.DestinationJSON(s, sampleOptions, sampleFirehose)
		require.NoError(t, err)
		var d fhtypes.ExtendedS3DestinationConfiguration
		require.NoError(t, json.Unmarshal(raw, &d))

		require.Equal(t, "arn:aws:s3:::acme-data-lake", aws.ToString(d.BucketARN))
		require.Equal(t, sampleFirehose.RoleARN, aws.ToString(d.RoleARN))
		require.Equal(t, fhtypes.CompressionFormatUncompressed, d.CompressionFormat)
		require.GreaterOrEqual(t, aws.ToInt32(d.BufferingHints.SizeInMBs), int32(64), "Parquet conversion needs 64 MiB")
		require.Equal(t, int32(300), aws.ToInt32(d.BufferingHints.IntervalInSeconds))

		wantPrefix := "ddblake/chat_messages/dt=!{partitionKeyFromQuery:dt}/"
		if s.Hourly {
			wantPrefix += "hr=!{partitionKeyFromQuery:hr}/"
		}
		require.Equal(t, wantPrefix, aws.ToString(d.Prefix))
		require.Equal(t, "ddblake/_errors/firehose/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/",
			aws.ToString(d.ErrorOutputPrefix))

		conv := d.DataFormatConversionConfiguration
		require.True(t, aws.ToBool(conv.Enabled))
		require.NotNil(t, conv.InputFormatConfiguration.Deserializer.OpenXJsonSerDe)
		require.False(t, aws.ToBool(conv.InputFormatConfiguration.Deserializer.OpenXJsonSerDe.CaseInsensitive),
			"map keys keep their case")
		require.Equal(t, fhtypes.ParquetCompressionSnappy, conv.OutputFormatConfiguration.Serializer.ParquetSerDe.Compression)
		sc := conv.SchemaConfiguration
		require.Equal(t, "chat_lake", aws.ToString(sc.DatabaseName))
		require.Equal(t, "chat_messages", aws.ToString(sc.TableName))
		require.Equal(t, "ap-northeast-2", aws.ToString(sc.Region))
		require.Equal(t, sampleFirehose.RoleARN, aws.ToString(sc.RoleARN))
		require.Nil(t, sc.CatalogId)

		require.True(t, aws.ToBool(d.DynamicPartitioningConfiguration.Enabled))
		require.True(t, aws.ToBool(d.ProcessingConfiguration.Enabled))
		require.Len(t, d.ProcessingConfiguration.Processors, 1)
		p := d.ProcessingConfiguration.Processors[0]
		require.Equal(t, fhtypes.ProcessorTypeMetadataExtraction, p.Type)
		params := map[fhtypes.ProcessorParameterName]string{}
		for _, pp := range p.Parameters {
			params[pp.ParameterName] = aws.ToString(pp.ParameterValue)
		}
		require.Equal(t, "JQ-1.6", params[fhtypes.ProcessorParameterNameJsonParsingEngine])

		// every key the prefix uses is extracted by the query, from the
		// row field of the same name, and nothing else is
		var used, extracted []string
		for _, m := range prefixKeyRe.FindAllStringSubmatch(aws.ToString(d.Prefix), -1) {
			used = append(used, m[1])
		}
		for _, m := range jqKeyRe.FindAllStringSubmatch(params[fhtypes.ProcessorParameterNameMetadataExtractionQuery], -1) {
			require.Equal(t, m[1], m[2], "partition key %s comes from the row's own field", m[1])
			extracted = append(extracted, m[1])
		}
		sort.Strings(used)
		sort.Strings(extracted)
		require.Equal(t, used, extracted)
		require.NotEmpty(t, used)
	}
}

func TestFirehoseOptions(t *testing.T) {
	tests := []struct {
		name string
		opts firehosedef.Options
		ok   bool
	}{
		{"defaults", firehosedef.Options{}, true},
		{"64 MiB", firehosedef.Options{BufferSizeMB: 64, BufferIntervalSeconds: 60}, true},
		{"too small for Parquet", firehosedef.Options{BufferSizeMB: 5}, false},
		{"too large", firehosedef.Options{BufferSizeMB: 256}, false},
		{"interval too short", firehosedef.Options{BufferIntervalSeconds: 10}, false},
		{"interval too long", firehosedef.Options{BufferIntervalSeconds: 901}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := firehosedef.Destination(sample(t), sampleOptions, tc.opts)
			if !tc.ok {
				require.ErrorIs(t, err, schemas.ErrBadOption)
				return
			}
			require.NoError(t, err)
			if tc.opts.BufferSizeMB != 0 {
				require.Equal(t, tc.opts.BufferSizeMB, aws.ToInt32(d.BufferingHints.SizeInMBs))
			}
		})
	}

	// without a role the configuration leaves it out rather than invent one
	raw, err := firehosedef.DestinationJSON(sample(t), schemas.Options{Location: "s3://acme-data-lake"}, firehosedef.Options{})
	require.NoError(t, err)
	require.NotContains(t, string(raw), "RoleARN")
	var d fhtypes.ExtendedS3DestinationConfiguration
	require.NoError(t, json.Unmarshal(raw, &d))
	require.Equal(t, "chat_messages/dt=!{partitionKeyFromQuery:dt}/", aws.ToString(d.Prefix), "no lake prefix, no leading slash")
	require.Equal(t, "_errors/firehose/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/", aws.ToString(d.ErrorOutputPrefix))
	require.Equal(t, schemas.DefaultDatabase, aws.ToString(d.DataFormatConversionConfiguration.SchemaConfiguration.DatabaseName))
}
