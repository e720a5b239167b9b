// Package glueapi is a small client of the Glue Data Catalog API: the
// three calls the catalog sync makes (GetTable, CreateTable,
// UpdateTable), in Glue's JSON 1.1 protocol, signed with the AWS SDK's
// Signature Version 4 signer and sent through the SDK configuration's
// HTTP client, region, credentials and endpoint.
//
// It stands in for the SDK's Glue client in the Lambda function and the
// CLI alike. The SDK's client links every Glue operation's types and
// registers their serialization schemas when the program starts: about
// 1.6 MB of the function's bootstrap and 2-4 ms of each cold start, for
// three calls. What the SDK client did and this one does too: the
// endpoint (a service endpoint of the configuration's sources, such as
// AWS_ENDPOINT_URL_GLUE, then its BaseEndpoint, then
// glue.<region>.amazonaws.com, .com.cn in China), SigV4 signing, error
// codes and messages from the answer. What it leaves to its caller, as
// the catalog asked of the SDK's client already (retries off): retries,
// backoff and throttling (sink/catalog retries whole merges), and the
// bound of each call (sink/catalog's AttemptTimeout, on top of the
// configuration's HTTP client timeouts, see internal/awsclient). What it
// does not do: FIPS and dual-stack endpoint variants (name one in
// AWS_ENDPOINT_URL_GLUE), clock-skew correction.
//
// Every answer is read whole, up to Options.MaxAnswerBytes.
//
//	c, err := glueapi.New(cfg, glueapi.Options{})
//	out, err := c.GetTable(ctx, &glueapi.GetTableInput{DatabaseName: "lake", Name: "orders"})
package glueapi
