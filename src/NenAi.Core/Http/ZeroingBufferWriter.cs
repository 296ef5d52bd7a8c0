using System;
using System.Buffers;

namespace NenAi.Core.Http
{
    /// <summary>
    /// A growable byte buffer that zeroes every array it lets go of, so a body holding secure params
    /// leaves no copy behind in memory.
    /// </summary>
    public sealed class ZeroingBufferWriter : IBufferWriter<byte>, IDisposable
    {
        private byte[] _buffer;
        private int _written;

        public ZeroingBufferWriter(int initialCapacity = 1024) => _buffer = new byte[Math.Max(initialCapacity, 16)];

        public int WrittenCount => _written;
        /// <summary>The underlying array; only the first <see cref="WrittenCount"/> bytes are the body.</summary>
        public byte[] Buffer => _buffer;
        public ArraySegment<byte> WrittenSegment => new ArraySegment<byte>(_buffer, 0, _written);

        public void Advance(int count)
        {
            if (count < 0 || _written + count > _buffer.Length) throw new ArgumentOutOfRangeException(nameof(count));
            _written += count;
        }

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            Ensure(sizeHint);
            return _buffer.AsMemory(_written);
        }

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            Ensure(sizeHint);
            return _buffer.AsSpan(_written);
        }

        private void Ensure(int sizeHint)
        {
            int needed = _written + Math.Max(sizeHint, 1);
            if (needed <= _buffer.Length) return;
            var larger = new byte[Math.Max(needed, _buffer.Length * 2)];
            System.Buffer.BlockCopy(_buffer, 0, larger, 0, _written);
            Array.Clear(_buffer, 0, _buffer.Length);
            _buffer = larger;
        }

        public void Dispose()
        {
            Array.Clear(_buffer, 0, _buffer.Length);
            _written = 0;
        }
    }
}
