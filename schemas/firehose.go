package schemas

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// Firehose buffering defaults and limits. Parquet conversion needs a
// buffer of at least 64 MiB; dynamic partitioning an interval of at least
// 60 seconds.
const (
	DefaultFirehoseBufferMB       = 128
	DefaultFirehoseBufferInterval = 300
	minFirehoseBufferMB           = 64
	maxFirehoseBufferMB           = 128
	minFirehoseBufferInterval     = 60
	maxFirehoseBufferInterval     = 900
)

// FirehoseOptions are the delivery-stream settings that are not part of
// the lake's Options.
type FirehoseOptions struct {
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
	// DefaultFirehoseBufferMB when 0.
	BufferSizeMB int32
	// BufferIntervalSeconds is the buffer interval, 60-900 seconds;
	// DefaultFirehoseBufferInterval when 0.
	BufferIntervalSeconds int32
}

// Validate reports whether the buffering hints are within the limits of a
// stream that converts to Parquet and partitions dynamically.
func (f FirehoseOptions) Validate() error {
	if f.BufferSizeMB != 0 && (f.BufferSizeMB < minFirehoseBufferMB || f.BufferSizeMB > maxFirehoseBufferMB) {
		return fmt.Errorf("%w: firehose buffer size %d MiB: Parquet conversion needs %d-%d",
			ErrBadOption, f.BufferSizeMB, minFirehoseBufferMB, maxFirehoseBufferMB)
	}
	if f.BufferIntervalSeconds != 0 &&
		(f.BufferIntervalSeconds < minFirehoseBufferInterval || f.BufferIntervalSeconds > maxFirehoseBufferInterval) {
		return fmt.Errorf("%w: firehose buffer interval %d s: dynamic partitioning needs %d-%d",
			ErrBadOption, f.BufferIntervalSeconds, minFirehoseBufferInterval, maxFirehoseBufferInterval)
	}
	return nil
}

// FirehosePartitionQuery is the JQ (1.6) query that extracts the partition
// keys from a flat JSON row: every row sent to Firehose carries its own
// "dt" (YYYY-MM-DD) field, and "hr" (HH) when the table is hourly.
func FirehosePartitionQuery(hourly bool) string {
	if hourly {
		return "{dt:.dt,hr:.hr}"
	}
	return "{dt:.dt}"
}

// FirehoseDestination returns the ExtendedS3DestinationConfiguration of a
// delivery stream that lands the table's flat JSON rows in the lake as
// Parquet, at the same place and in the same shape as the direct S3 sink:
//
//   - format conversion: OpenX JSON SerDe in (case-sensitive, so that the
//     keys of map columns keep their case), Parquet SerDe out, with the
//     column types read from the Glue table o.DatabaseName().s.Table
//     (create it first, see GlueTableInput), version LATEST;
//   - dynamic partitioning, with a MetadataExtraction processor running
//     FirehosePartitionQuery, into the prefix
//     <prefix>/<table>/dt=!{partitionKeyFromQuery:dt}/ (and hr=.../);
//   - failed records under <prefix>/_errors/firehose/<error type>/dt=<day>/.
//
// Each JSON row's keys are column names, plus dt (and hr); timestamps
// must be text the OpenX JSON SerDe reads as one, such as the UTC
// "2026-04-01 12:30:05.123". It fails like CreateTableDDL, and with
// ErrBadOption for buffering out of range.
func FirehoseDestination(s *Schema, o Options, f FirehoseOptions) (*fhtypes.ExtendedS3DestinationConfiguration, error) {
	if _, err := prepare(s, o); err != nil {
		return nil, err
	}
	if err := f.Validate(); err != nil {
		return nil, &DefinitionError{Table: s.Table, Err: err}
	}
	bucket, prefix, err := SplitS3Location(o.Location)
	if err != nil {
		return nil, &DefinitionError{Table: s.Table, Err: err}
	}
	size, interval := f.BufferSizeMB, f.BufferIntervalSeconds
	if size == 0 {
		size = DefaultFirehoseBufferMB
	}
	if interval == 0 {
		interval = DefaultFirehoseBufferInterval
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
						ParameterValue: aws.String(FirehosePartitionQuery(s.Hourly)),
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

// FirehoseDestinationJSON renders FirehoseDestination as the JSON that
// `aws firehose create-delivery-stream --extended-s3-destination-configuration
// file://F` takes (see MarshalAPIJSON). It fails like FirehoseDestination.
func FirehoseDestinationJSON(s *Schema, o Options, f FirehoseOptions) ([]byte, error) {
	d, err := FirehoseDestination(s, o, f)
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
