using System;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;

namespace NenAi.Core.Http
{
    /// <summary>
    /// A request body that remembers whether it was ever handed to the connection in full. A POST whose body
    /// never went out completely cannot have started a run, whatever failed (no connection, a TLS handshake or
    /// proxy tunnel that failed, a wait for a free connection that timed out), so it may be sent again.
    /// </summary>
    internal sealed class TrackedBody : HttpContent
    {
        private readonly byte[] _bytes;
        private readonly int _count;
        private int _written;

        public TrackedBody(byte[] bytes, int count)
        {
            _bytes = bytes;
            _count = count;
        }

        public byte[] Bytes => _bytes;
        public int Count => _count;

        /// <summary>True once every byte was written to the connection (not proof of delivery: the cautious side).</summary>
        public bool Written => Volatile.Read(ref _written) == 1;

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(_bytes, 0, _count).ConfigureAwait(false);
            Volatile.Write(ref _written, 1);
        }

#if NET
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            await stream.WriteAsync(_bytes.AsMemory(0, _count), cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _written, 1);
        }

        protected override void SerializeToStream(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            stream.Write(_bytes, 0, _count);
            Volatile.Write(ref _written, 1);
        }
#endif

        protected override bool TryComputeLength(out long length)
        {
            length = _count;
            return true;
        }
    }
}
