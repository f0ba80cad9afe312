// kafkajs transactions: one transactional producer commits, aborts, then commits again
// (RECORDS messages each, over PARTITIONS partitions); a read_committed consumer group (kafkajs's
// default isolation) then reads the topic from the beginning and must see exactly the
// committed messages, each once; a read_uncommitted group sees the aborted ones too.
// Prints `VERIFIED transactions kafkajs` on success.

const { Kafka, Partitioners, logLevel } = require('kafkajs')

const DEADLINE_MS = 90000
const PARTITIONS = 3
const RECORDS = 30

function check (condition, what) {
  if (!condition) throw new Error(what)
}

function batch (prefix) {
  const messages = []
  for (let i = 0; i < RECORDS; i++) messages.push({ key: `k${i}`, value: `${prefix}-${i}`, partition: i % PARTITIONS })
  return messages
}

async function readAll (kafka, topic, readUncommitted, expected) {
  const consumer = kafka.consumer({ groupId: `kafkajs-txn-${readUncommitted}-${Date.now()}`, readUncommitted })
  const seen = []
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  const done = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`read ${seen.length} of ${expected} in time`)), DEADLINE_MS)
    consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(message.value.toString())
        if (seen.length >= expected) {
          clearTimeout(timer)
          resolve()
        }
      }
    }).catch(reject)
  })
  await done
  // A duplicate or an aborted message among the first `expected` ones displaces a wanted
  // one, so the caller's exact comparison catches it without waiting for more.
  await consumer.disconnect()
  return seen.sort()
}

async function main () {
  const bootstrap = process.argv[process.argv.indexOf('--bootstrap') + 1]
  const kafka = new Kafka({ brokers: [bootstrap], clientId: 'kafkajs-txn', logLevel: logLevel.WARN })
  const topic = 'kafkajs-txn-topic'
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true })
  await admin.disconnect()

  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    transactionalId: 'kafkajs-txn-producer',
    maxInFlightRequests: 1,
    idempotent: true
  })
  await producer.connect()
  for (const [prefix, commit] of [['first', true], ['aborted', false], ['second', true]]) {
    const txn = await producer.transaction()
    await txn.send({ topic, messages: batch(prefix) })
    if (commit) await txn.commit()
    else await txn.abort()
  }
  await producer.disconnect()

  const want = (prefixes) => prefixes.flatMap(p => batch(p).map(m => m.value)).sort()
  const committed = await readAll(kafka, topic, false, 2 * RECORDS)
  check(JSON.stringify(committed) === JSON.stringify(want(['first', 'second'])),
    `read_committed saw ${committed.length}: ${committed.slice(0, 5)}...`)
  const everything = await readAll(kafka, topic, true, 3 * RECORDS)
  check(JSON.stringify(everything) === JSON.stringify(want(['first', 'aborted', 'second'])),
    `read_uncommitted saw ${everything.length}`)
  console.log(`VERIFIED transactions kafkajs committed=${committed.length} all=${everything.length}`)
}

main().then(() => process.exit(0)).catch(err => {
  console.error(err)
  process.exit(1)
})
