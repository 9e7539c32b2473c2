using System.Buffers.Binary;
using System.Numerics;

namespace NodeCache.Testing;

/// <summary>
/// A read-only stream of a fixed length of pseudo-random bytes determined by a seed: a layer's file content, made as
/// it is written so that a 200 MiB layer never sits in memory. The generator is xoshiro256** seeded through
/// SplitMix64 rather than <c>new Random(seed)</c>, whose seeded algorithm makes about 100 MB/s and would double the
/// time a big layer takes to build. The stream reports itself seekable only so TarWriter can read its Length; it
/// can only be read forward.
/// </summary>
public sealed class SeededRandomStream : Stream
{
    private const int BlockSize = 64 * 1024;

    private readonly long _length;
    private readonly byte[] _block = new byte[BlockSize];
    private int _blockOffset = BlockSize;
    private long _position;
    private ulong _s0, _s1, _s2, _s3;

    public SeededRandomStream(int seed, long length)
    {
        _length = length;
        var state = (ulong)(uint)seed;
        _s0 = SplitMix64(ref state);
        _s1 = SplitMix64(ref state);
        _s2 = SplitMix64(ref state);
        _s3 = SplitMix64(ref state);
    }

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <summary>Served from a generated block, so the bytes do not depend on how the reader sizes its reads.</summary>
    public override int Read(Span<byte> buffer)
    {
        var wanted = (int)Math.Min(buffer.Length, _length - _position);
        var written = 0;
        while (written < wanted)
        {
            if (_blockOffset == BlockSize)
            {
                FillBlock();
            }
            var count = Math.Min(wanted - written, BlockSize - _blockOffset);
            _block.AsSpan(_blockOffset, count).CopyTo(buffer[written..]);
            _blockOffset += count;
            written += count;
        }
        _position += written;
        return written;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => _length + offset,
        };
        if (target != _position)
        {
            throw new NotSupportedException("generated content can only be read forward");
        }
        return _position;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private void FillBlock()
    {
        for (var i = 0; i < BlockSize; i += sizeof(ulong))
        {
            BinaryPrimitives.WriteUInt64LittleEndian(_block.AsSpan(i), Next());
        }
        _blockOffset = 0;
    }

    private ulong Next()
    {
        var result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    private static ulong SplitMix64(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }
}
