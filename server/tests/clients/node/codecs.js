// Registers kafkajs codecs for snappy, lz4 and zstd from pure-JavaScript/wasm
// packages, so `npm ci` needs no native build and no download outside npm.
// kafkajs ships gzip itself. A codec is a factory returning
// { compress(encoder) -> Buffer, decompress(Buffer) -> Buffer }.

const { CompressionTypes, CompressionCodecs } = require('kafkajs')
const SnappyCodec = require('kafkajs-snappy')
const lz4 = require('lz4js')
const { ZstdCodec } = require('zstd-codec')

const ZSTD_LEVEL = 3

function zstdReady() {
  return new Promise(resolve => ZstdCodec.run(zstd => resolve(zstd)))
}

async function registerCodecs() {
  const zstd = await zstdReady()
  CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec
  CompressionCodecs[CompressionTypes.LZ4] = () => ({
    async compress(encoder) {
      return Buffer.from(lz4.compress(encoder.buffer))
    },
    async decompress(buffer) {
      return Buffer.from(lz4.decompress(buffer))
    },
  })
  CompressionCodecs[CompressionTypes.ZSTD] = () => ({
    async compress(encoder) {
      return Buffer.from(new zstd.Streaming().compress(encoder.buffer, ZSTD_LEVEL))
    },
    async decompress(buffer) {
      const out = new zstd.Streaming().decompress(buffer)
      if (out == null) throw new Error('zstd decompression failed')
      return Buffer.from(out)
    },
  })
}

const CODECS = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
}

module.exports = { registerCodecs, CODECS }
