// Round trip through kafkajs, the scenario of ../python/round_trip_model.py:
// produce `--messages` keyed messages with headers and explicit CreateTime
// timestamps per codec, read every partition back from offset 0 and compare
// byte for byte, then check ListOffsets earliest, latest and by time.
//
// kafkajs can only consume through a consumer group, which Sluice does not
// serve yet, so reading uses kafkajs's own cluster/broker objects: the same
// Fetch request and record decoding its consumer uses, addressed to the
// partition leader by hand.
//
// Success prints `VERIFIED codec=<codec> messages=<n> partitions=<p>` per codec.

const { Kafka, Partitioners, logLevel } = require('kafkajs')
const { registerCodecs, CODECS } = require('./codecs')

const HOUR_MS = 3600000
const SEND_CHUNK = 1000
const DEADLINE_MS = 120000
const FETCH_PARTITION_MAX_BYTES = 1048576

function parseArgs(argv) {
  const args = { codecs: 'none,gzip,snappy,lz4,zstd', messages: 10000, partitions: 6, seed: 20261121 }
  for (let i = 2; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase())
    args[name] = argv[i + 1]
  }
  if (!args.bootstrap || !args.topicPrefix) throw new Error('need --bootstrap and --topic-prefix')
  args.messages = Number(args.messages)
  args.partitions = Number(args.partitions)
  args.seed = Number(args.seed)
  return args
}

class Mismatch extends Error {}

function check(condition, what) {
  if (!condition) throw new Mismatch(what)
}

// mulberry32: a small seeded generator so failures reproduce.
function rng(seed) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1))
  const bytes = n => Buffer.from(Array.from({ length: n }, () => int(0, 255)))
  return { int, bytes }
}

function generateMessages(count, seed, partitions) {
  const r = rng(seed)
  const baseTs = Date.now() - HOUR_MS
  const partitioner = Partitioners.DefaultPartitioner()
  const partitionMetadata = Array.from({ length: partitions }, (_, i) => ({ partitionId: i, leader: 0 }))
  const messages = []
  for (let i = 0; i < count; i++) {
    const key = Buffer.concat([Buffer.from(`key-${String(i).padStart(5, '0')}-`), r.bytes(r.int(0, 24))])
    let value
    if (i % 1000 === 999) value = null
    else if (i % 97 === 0) value = Buffer.alloc(0)
    else if (i % 500 === 0) value = r.bytes(20000)
    else value = Buffer.concat([r.bytes(r.int(1, 200)), Buffer.from('sluice'.repeat(r.int(0, 40)))])
    const headers = {
      idx: Buffer.from(String(i)),
      bin: Buffer.concat([r.bytes(8), Buffer.from([0, 255])]),
      dup: [Buffer.from('first'), Buffer.from('second')],
    }
    const message = { key, value, headers, timestamp: String(baseTs + 2 * i) }
    // The default (murmur2) partitioner chooses, exactly as producer.send would;
    // naming the partition lets us know which messages share a produce batch.
    message.partition = partitioner({ topic: 'x', partitionMetadata, message })
    messages.push({ index: i, message, offset: null })
  }
  return messages
}

async function createTopic(admin, topic, partitions) {
  const created = await admin.createTopics({
    topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
    waitForLeaders: true,
  })
  check(created === true, `createTopics(${topic}) returned ${created}`)
}

async function produce(kafka, topic, codec, messages) {
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  })
  await producer.connect()
  try {
    for (let start = 0; start < messages.length; start += SEND_CHUNK) {
      const chunk = messages.slice(start, start + SEND_CHUNK)
      const results = await producer.send({
        topic,
        acks: -1,
        compression: CODECS[codec],
        messages: chunk.map(m => m.message),
      })
      // One send makes one batch per partition; its records get consecutive offsets.
      const base = new Map(results.map(r => [r.partition, Number(r.baseOffset)]))
      const seen = new Map()
      for (const m of chunk) {
        const p = m.message.partition
        check(base.has(p), `no produce result for partition ${p}: ${JSON.stringify(results)}`)
        const k = seen.get(p) || 0
        m.offset = base.get(p) + k
        seen.set(p, k + 1)
      }
    }
  } finally {
    await producer.disconnect()
  }
}

function byPartition(messages) {
  const parts = new Map()
  for (const m of messages) {
    const p = m.message.partition
    if (!parts.has(p)) parts.set(p, [])
    parts.get(p).push(m)
  }
  for (const [p, ms] of parts) {
    ms.sort((a, b) => a.offset - b.offset)
    ms.forEach((m, i) => check(m.offset === i, `partition ${p}: acknowledged offsets are not dense at ${i}`))
  }
  return parts
}

function privateCluster(kafka) {
  const symbol = Object.getOwnPropertySymbols(kafka).find(
    s => s.toString() === 'Symbol(private:Kafka:createCluster)'
  )
  check(symbol !== undefined, 'kafkajs internals changed: no createCluster symbol')
  return kafka[symbol]({ allowAutoTopicCreation: false })
}

async function fetchPartition(cluster, topic, partition, count) {
  const leaders = cluster.findLeaderForPartitions(topic, [partition])
  const leaderId = Object.keys(leaders)[0]
  const broker = await cluster.findBroker({ nodeId: leaderId })
  const got = []
  let next = 0
  const deadline = Date.now() + DEADLINE_MS
  while (next < count && Date.now() < deadline) {
    const response = await broker.fetch({
      replicaId: -1,
      isolationLevel: 1,
      maxWaitTime: 200,
      minBytes: 1,
      maxBytes: 4 * FETCH_PARTITION_MAX_BYTES,
      topics: [{ topic, partitions: [{ partition, fetchOffset: String(next), maxBytes: FETCH_PARTITION_MAX_BYTES }] }],
    })
    const data = response.responses[0].partitions[0]
    check(data.errorCode === 0, `fetch ${topic}/${partition}@${next}: error ${data.errorCode}`)
    for (const m of data.messages) {
      const offset = Number(m.offset)
      // A fetch returns whole batches, so it may start before the offset asked for.
      if (offset < next) continue
      check(offset === next, `partition ${partition}: offset ${offset} follows ${next - 1}`)
      got.push(m)
      next += 1
    }
  }
  return got
}

function sameBuffer(a, b) {
  if (a === null || b === null) return a === b
  return Buffer.compare(a, b) === 0
}

function compareHeaders(got, want) {
  const keys = Object.keys(want)
  if (Object.keys(got).length !== keys.length) return false
  return keys.every(k => {
    const w = want[k]
    const g = got[k]
    if (Array.isArray(w)) return Array.isArray(g) && g.length === w.length && w.every((x, i) => sameBuffer(g[i], x))
    return !Array.isArray(g) && sameBuffer(g, w)
  })
}

async function consumeAndCompare(cluster, topic, parts) {
  await cluster.addTargetTopic(topic)
  await cluster.refreshMetadata()
  for (const [p, ms] of parts) {
    const got = await fetchPartition(cluster, topic, p, ms.length)
    check(got.length === ms.length, `partition ${p}: consumed ${got.length} of ${ms.length}`)
    ms.forEach((m, i) => {
      const g = got[i]
      const where = `partition ${p} offset ${m.offset} (message ${m.index})`
      check(sameBuffer(g.key, m.message.key), `${where}: key differs`)
      check(sameBuffer(g.value, m.message.value), `${where}: value differs`)
      check(compareHeaders(g.headers, m.message.headers), `${where}: headers differ`)
      check(g.batchContext.timestampType === 0, `${where}: timestamp type is not CreateTime`)
      check(g.timestamp === m.message.timestamp, `${where}: timestamp ${g.timestamp} != ${m.message.timestamp}`)
    })
  }
}

async function checkListOffsets(admin, topic, parts) {
  const offsets = await admin.fetchTopicOffsets(topic)
  for (const [p, ms] of parts) {
    const o = offsets.find(x => x.partition === p)
    check(o !== undefined, `no offsets for partition ${p}`)
    check(Number(o.low) === 0, `partition ${p}: earliest ${o.low} != 0`)
    check(Number(o.high) === ms.length, `partition ${p}: latest ${o.high} != ${ms.length}`)
  }
  // By time: the first offset whose timestamp is >= the probe. kafkajs reports
  // "none" (-1 from the broker) as the latest offset.
  const all = [...parts.values()].flat().sort((a, b) => Number(a.message.timestamp) - Number(b.message.timestamp))
  const probes = [
    Number(all[0].message.timestamp) - 10000,
    Number(all[Math.floor(all.length / 3)].message.timestamp),
    Number(all[Math.floor(all.length / 2)].message.timestamp) - 1,
    Number(all[all.length - 1].message.timestamp) + 1,
  ]
  for (const probe of probes) {
    const answers = await admin.fetchTopicOffsetsByTimestamp(topic, probe)
    for (const [p, ms] of parts) {
      const first = ms.find(m => Number(m.message.timestamp) >= probe)
      const want = first === undefined ? ms.length : first.offset
      const a = answers.find(x => x.partition === p)
      check(a !== undefined && Number(a.offset) === want,
        `partition ${p}: offset for time ${probe} is ${a && a.offset}, expected ${want}`)
    }
  }
}

async function scenario(kafka, admin, cluster, args, codec) {
  const topic = `${args.topicPrefix}-${codec}`
  await createTopic(admin, topic, args.partitions)
  const messages = generateMessages(args.messages, args.seed, args.partitions)
  await produce(kafka, topic, codec, messages)
  const parts = byPartition(messages)
  check(parts.size === args.partitions, `keys spread over ${parts.size} partitions`)
  await consumeAndCompare(cluster, topic, parts)
  await checkListOffsets(admin, topic, parts)
  return parts.size
}

async function main() {
  const args = parseArgs(process.argv)
  await registerCodecs()
  const kafka = new Kafka({
    clientId: 'sluice-tests',
    brokers: [args.bootstrap],
    logLevel: logLevel.WARN,
    retry: { retries: 3 },
  })
  const admin = kafka.admin()
  await admin.connect()
  const cluster = privateCluster(kafka)
  await cluster.connect()
  try {
    for (const codec of args.codecs.split(',')) {
      check(codec in CODECS, `unknown codec ${codec}`)
      const started = Date.now()
      const partitions = await scenario(kafka, admin, cluster, args, codec)
      const seconds = ((Date.now() - started) / 1000).toFixed(1)
      console.log(`VERIFIED codec=${codec} messages=${args.messages} partitions=${partitions} seconds=${seconds}`)
    }
  } finally {
    await cluster.disconnect()
    await admin.disconnect()
  }
}

main().catch(e => {
  console.log(e instanceof Mismatch ? `MISMATCH: ${e.message}` : `ERROR: ${e.stack || e}`)
  process.exit(1)
})
