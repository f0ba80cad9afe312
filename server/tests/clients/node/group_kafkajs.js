// Consumer group through kafkajs: two consumers in one group on a 6-partition topic split
// the partitions, read every message exactly once (commits after each message), and the
// group's committed offsets reach the log end. Prints `VERIFIED group kafkajs` on success.

const { Kafka, Partitioners, logLevel } = require('kafkajs')

const DEADLINE_MS = 90000
const PARTITIONS = 6
const MESSAGES = 300

async function main () {
  const bootstrap = process.argv[process.argv.indexOf('--bootstrap') + 1]
  const kafka = new Kafka({ brokers: [bootstrap], clientId: 'kafkajs-group', logLevel: logLevel.WARN })
  const topic = 'kafkajs-group-topic'
  const groupId = 'kafkajs-group'
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true })
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
  await producer.connect()
  const messages = []
  for (let i = 0; i < MESSAGES; i++) messages.push({ key: `k${i}`, value: `v${i}`, partition: i % PARTITIONS })
  await producer.send({ topic, acks: -1, messages })
  await producer.disconnect()

  const seen = new Map()
  const owned = [new Set(), new Set()]
  const consumers = [0, 1].map(() => kafka.consumer({ groupId, sessionTimeout: 10000, heartbeatInterval: 1000 }))
  for (const [i, consumer] of consumers.entries()) {
    consumer.on(consumer.events.GROUP_JOIN, e => {
      owned[i] = new Set((e.payload.memberAssignment[topic] || []))
    })
    await consumer.connect()
    await consumer.subscribe({ topic, fromBeginning: true })
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const id = `${partition}:${message.offset}`
        seen.set(id, (seen.get(id) || 0) + 1)
        await consumer.commitOffsets([{ topic, partition, offset: (Number(message.offset) + 1).toString() }])
      }
    })
  }
  const start = Date.now()
  while (seen.size < MESSAGES && Date.now() - start < DEADLINE_MS) await new Promise(r => setTimeout(r, 100))
  if (seen.size !== MESSAGES) throw new Error(`read ${seen.size} of ${MESSAGES} messages`)
  const twice = [...seen.entries()].filter(([, n]) => n > 1)
  if (twice.length) throw new Error(`read twice: ${twice.slice(0, 5)}`)
  // The first member may read everything before the second one's join completes the
  // rebalance; the split is checked once the group has settled (each member's latest
  // assignment), within the same deadline.
  const settled = () => {
    const sizes = owned.map(s => s.size)
    return sizes[0] + sizes[1] === PARTITIONS && sizes[0] > 0 && sizes[1] > 0
  }
  while (!settled() && Date.now() - start < DEADLINE_MS) await new Promise(r => setTimeout(r, 100))
  const split = owned.map(s => s.size)
  if (split[0] + split[1] !== PARTITIONS || split[0] === 0 || split[1] === 0) {
    throw new Error(`partitions were not split between the members: ${split}`)
  }
  for (const consumer of consumers) await consumer.disconnect()
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] })
  const ends = await admin.fetchTopicOffsets(topic)
  for (const { partition, offset } of committed.partitions) {
    const end = ends.find(e => e.partition === partition).offset
    if (offset !== end) throw new Error(`partition ${partition}: committed ${offset}, log end ${end}`)
  }
  const groups = await admin.describeGroups([groupId])
  if (groups.groups[0].state !== 'Empty') throw new Error(`group state ${groups.groups[0].state} after both left`)
  await admin.disconnect()
  console.log(`VERIFIED group kafkajs split=${split}`)
}

main().catch(e => { console.error(e); process.exit(1) })
