// Package firehosedef renders the lake's tables as Amazon Data Firehose
// delivery-stream destinations (ExtendedS3DestinationConfiguration): JSON
// rows in, Parquet in the lake's folders out, converted with the table's
// Glue definition. It is used by the CLI's ddl command only; it is a
// package of its own so that the Lambda function, which sends rows to a
// stream but never defines one, does not link these definitions.
//
//	doc, err := firehosedef.DestinationJSON(s, schemas.Options{Location: "s3://bucket/lake"}, firehosedef.Options{RoleARN: role})
package firehosedef

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/ddblake/ddblake/schemas"
)

// Firehose buffering defaults and limits. Parquet conversion needs a
// buffer of at least 64 MiB; dynamic partitioning an interval of at least
// 60 seconds.
const (
	DefaultBufferMB       = 128
	DefaultBufferInterval = 300
	minBufferMB           = 64
	maxBufferMB           = 128
	minBufferInterval     = 60
	maxBufferInterval     = 900
)

// Options are the delivery-stream settings that are not part of the
// lake's schemas.Options.
type Options struct {
	// RoleARN is the IAM role Firehose assumes to write to the bucket and
	// read the Glue table. The API requires it; it is left out of the
	// configuration when empty, for the deployment to fill in.
	RoleARN string
	// Region is the region of the Glue catalog; the stream's own when
	// empty.
	Region string
	// CatalogID is the Glue catalog (account) ID; the stream's account
	// when empty.
	CatalogID string
	// BufferSizeMB is the buffer size, 64-128 MiB;
	// DefaultBufferMB when 0.
	BufferSizeMB int32
	// BufferIntervalSeconds is the buffer interval, 60-900 seconds;
	// DefaultBufferInterval when 0.
	BufferIntervalSeconds int32
}

// Validate reports whether the buffering hints are within the limits of a
// stream that converts to Parquet and partitions dynamically.
func (f Options) Validate() error {
	if f.BufferSizeMB != 0 && (f.BufferSizeMB < minBufferMB || f.BufferSizeMB > maxBufferMB) {
		return fmt.Errorf("%w: firehose buffer size %d MiB: Parquet conversion needs %d-%d",
			schemas.ErrBadOption, f.BufferSizeMB, minBufferMB, maxBufferMB)
	}
	if f.BufferIntervalSeconds != 0 &&
		(f.BufferIntervalSeconds < minBufferInterval || f.BufferIntervalSeconds > maxBufferInterval) {
		return fmt.Errorf("%w: firehose buffer interval %d s: dynamic partitioning needs %d-%d",
			schemas.ErrBadOption, f.BufferIntervalSeconds, minBufferInterval, maxBufferInterval)
	}
	return nil
}

// PartitionQuery is the JQ (1.6) query that extracts the partition
// keys from a flat JSON row: every row sent to Firehose carries its own
// "dt" (YYYY-MM-DD) field, and "hr" (HH) when the table is hourly.
func PartitionQuery(hourly bool) string {
	if hourly {
		return "{dt:.dt,hr:.hr}"
	}
	return "{dt:.dt}"
}

// Destination returns the ExtendedS3DestinationConfiguration of a
// delivery stream that lands the table's flat JSON rows in the lake as
// Parquet, at the same place and in the same shape as the direct S3 sink:
//
//   - format conversion: OpenX JSON SerDe in (case-sensitive, so that the
//     keys of map columns keep their case), Parquet SerDe out, with the
//     column types read from the Glue table o.DatabaseName().s.Table
//     (create it first, see gluedef.LakeTable), version LATEST;
//   - dynamic partitioning, with a MetadataExtraction processor running
//     PartitionQuery, into the prefix
//     <prefix>/<table>/dt=!{partitionKeyFromQuery:dt}/ (and hr=.../);
//   - failed records under <prefix>/_errors/firehose/<error type>/dt=<day>/.
//
// Each JSON row's keys are column names, plus dt (and hr); timestamps
// must be text the OpenX JSON SerDe reads as one, such as the UTC
// "2026-04-01 12:30:05.123". It fails like schemas.CreateTableDDL, and
// with schemas.ErrBadOption for buffering out of range.
func Destination(s *schemas.Schema, o schemas.Options, f Options) (*fhtypes.ExtendedS3DestinationConfiguration, error) {
	if err := schemas.ValidateDefinition(s, o); err != nil {
		return nil, err
	}
	if err := f.Validate(); err != nil {
		return nil, &schemas.DefinitionError{Table: s.Table, Err: err}
	}
	bucket, prefix, err := schemas.SplitS3Location(o.Location)
	if err != nil {
		return nil, &schemas.DefinitionError{Table: s.Table, Err: err}
	}
	size, interval := f.BufferSizeMB, f.BufferIntervalSeconds
	if size == 0 {
		size = DefaultBufferMB
	}
	if interval == 0 {
		interval = DefaultBufferInterval
	}
	dataPrefix := joinKey(prefix, s.Table) + "/dt=!{partitionKeyFromQuery:dt}/"
	if s.Hourly {
		dataPrefix += "hr=!{partitionKeyFromQuery:hr}/"
	}
	errorPrefix := joinKey(prefix, "_errors", "firehose") +
		"/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/"
	return &fhtypes.ExtendedS3DestinationConfiguration{
		BucketARN: aws.String("arn:aws:s3:::" + bucket),
		RoleARN:   optString(f.RoleARN),
		BufferingHints: &fhtypes.BufferingHints{
			SizeInMBs:         aws.Int32(size),
			IntervalInSeconds: aws.Int32(interval),
		},
		// Parquet conversion compresses inside the files; the objects
		// themselves must stay uncompressed.
		CompressionFormat: fhtypes.CompressionFormatUncompressed,
		Prefix:            aws.String(dataPrefix),
		ErrorOutputPrefix: aws.String(errorPrefix),
		FileExtension:     aws.String(".parquet"),
		DataFormatConversionConfiguration: &fhtypes.DataFormatConversionConfiguration{
			Enabled: aws.Bool(true),
			InputFormatConfiguration: &fhtypes.InputFormatConfiguration{
				// Case-sensitive: the row's keys are the column names
				// already, and the default (case-insensitive) lower-cases
				// the keys of map columns too, merging "Ab" and "ab".
				Deserializer: &fhtypes.Deserializer{OpenXJsonSerDe: &fhtypes.OpenXJsonSerDe{
					CaseInsensitive: aws.Bool(false),
				}},
			},
			OutputFormatConfiguration: &fhtypes.OutputFormatConfiguration{
				Serializer: &fhtypes.Serializer{ParquetSerDe: &fhtypes.ParquetSerDe{
					// Firehose's ParquetSerDe offers UNCOMPRESSED, GZIP and
					// SNAPPY only, not the lake's default ZSTD; SNAPPY is
					// the fast one. Readers take the codec from each file,
					// so the table mixes codecs without harm.
					Compression: fhtypes.ParquetCompressionSnappy,
				}},
			},
			SchemaConfiguration: &fhtypes.SchemaConfiguration{
				DatabaseName: aws.String(o.DatabaseName()),
				TableName:    aws.String(s.Table),
				VersionId:    aws.String("LATEST"),
				RoleARN:      optString(f.RoleARN),
				Region:       optString(f.Region),
				CatalogId:    optString(f.CatalogID),
			},
		},
		DynamicPartitioningConfiguration: &fhtypes.DynamicPartitioningConfiguration{
			Enabled:      aws.Bool(true),
			RetryOptions: &fhtypes.RetryOptions{DurationInSeconds: aws.Int32(300)},
		},
		ProcessingConfiguration: &fhtypes.ProcessingConfiguration{
			Enabled: aws.Bool(true),
			Processors: []fhtypes.Processor{{
				Type: fhtypes.ProcessorTypeMetadataExtraction,
				Parameters: []fhtypes.ProcessorParameter{
					{
						ParameterName:  fhtypes.ProcessorParameterNameMetadataExtractionQuery,
						ParameterValue: aws.String(PartitionQuery(s.Hourly)),
					},
					{
						ParameterName:  fhtypes.ProcessorParameterNameJsonParsingEngine,
						ParameterValue: aws.String("JQ-1.6"),
					},
				},
			}},
		},
	}, nil
}

// DestinationJSON renders Destination as the JSON that `aws firehose
// create-delivery-stream --extended-s3-destination-configuration file://F`
// takes (see MarshalAPIJSON). It fails like Destination.
func DestinationJSON(s *schemas.Schema, o schemas.Options, f Options) ([]byte, error) {
	d, err := Destination(s, o, f)
	if err != nil {
		return nil, err
	}
	return MarshalAPIJSON(d)
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// joinKey joins the non-empty parts with '/'.
func joinKey(parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, "/")
}
