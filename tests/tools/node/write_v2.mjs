// Writes points to an InfluxDB 2.x API with the official JavaScript client, as an application
// would: node write_v2.mjs <url> <token> <org> <bucket> <count>
// Prints "written <count>" once the client has flushed without error.
import {InfluxDB, Point} from '@influxdata/influxdb-client';

const [url, token, org, bucket, countText] = process.argv.slice(2);
const count = Number(countText);
const writeApi = new InfluxDB({url, token}).getWriteApi(org, bucket, 'ns', {
  batchSize: 500,
  maxRetries: 0,
  gzipThreshold: 1000,
});
writeApi.useDefaultTags({client: 'node'});
for (let i = 0; i < count; i++) {
  writeApi.writePoint(
      new Point('js').tag('n', String(i % 3)).intField('seq', i).floatField('v', i / 2)
          .timestamp(String(1700000000000000000n + BigInt(i))));
}
try {
  await writeApi.close();
  console.log(`written ${count}`);
} catch (e) {
  console.error(`write failed: ${e}`);
  process.exit(1);
}
