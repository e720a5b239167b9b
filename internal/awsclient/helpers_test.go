package awsclient_test

import (
	"context"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsfirehose "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

type firehoseOptions = awsfirehose.Options

var errDeadlineExceeded = os.ErrDeadlineExceeded

func putRecordBatch(c *awsfirehose.Client) error {
	_, err := c.PutRecordBatch(context.Background(), &awsfirehose.PutRecordBatchInput{
		DeliveryStreamName: aws.String("s"), Records: []types.Record{{Data: []byte("x")}}})
	return err
}
