// kafkajs over SASL_SSL (or SASL_PLAINTEXT): produce `count` records, read them back in a
// consumer group, print one JSON line {"produced": n, "consumed": n, "in_order": bool} or
// {"error": "..."}. Usage: node secure_kafkajs.js '<json args>' with bootstrap, ca (or
// null for no TLS), mechanism (scram-sha-256|scram-sha-512|plain), user, password, topic,
// group, count.

const fs = require('fs')
const { Kafka, logLevel } = require('kafkajs')

const DEADLINE_MS = 60000

async function main() {
  const args = JSON.parse(process.argv[2])
  const kafka = new Kafka({
    clientId: 'sluice-secure-kafkajs',
    brokers: [args.bootstrap],
    ssl: args.ca ? { ca: [fs.readFileSync(args.ca, 'utf-8')], servername: 'localhost' } : false,
    sasl: { mechanism: args.mechanism, username: args.user, password: args.password },
    logLevel: logLevel.NOTHING,
    retry: { retries: 3 },
  })
  const producer = kafka.producer({ allowAutoTopicCreation: true })
  await producer.connect()
  const messages = Array.from({ length: args.count }, (_, i) => ({ value: `js-${i}` }))
  await producer.send({ topic: args.topic, acks: -1, messages })
  await producer.disconnect()
  const consumer = kafka.consumer({ groupId: args.group })
  await consumer.connect()
  await consumer.subscribe({ topic: args.topic, fromBeginning: true })
  const consumed = []
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`consumed ${consumed.length} in time`)), DEADLINE_MS)
    consumer.run({
      eachMessage: async ({ message }) => {
        consumed.push(message.value.toString())
        if (consumed.length === args.count) {
          clearTimeout(timer)
          resolve()
        }
      },
    })
  })
  await consumer.disconnect()
  const inOrder = consumed.every((v, i) => v === `js-${i}`)
  console.log(JSON.stringify({ produced: args.count, consumed: consumed.length, in_order: inOrder }))
}

main().then(
  () => process.exit(0),
  err => {
    console.log(JSON.stringify({ error: String(err && err.message ? err.message : err) }))
    process.exit(1)
  },
)
