using System;
using System.Net.Http;
using NenAi.Core.Logging;

namespace NenAi.Core.Http
{
    /// <summary>
    /// One API request as the client's request loop sends it, as often as it may: what to send, how to name it in
    /// messages, and which secrets the server must not be quoted back with.
    /// </summary>
    internal sealed class ApiCall
    {
        public ApiCall(HttpMethod method, Uri uri, string operation, ZeroingBufferWriter? body, string? idempotencyKey, SecretScrubber scrubber)
        {
            Method = method;
            Uri = uri;
            Operation = operation;
            Body = body;
            IdempotencyKey = idempotencyKey;
            Scrubber = scrubber;
        }

        public HttpMethod Method { get; }
        public Uri Uri { get; }
        /// <summary>"Starting the run", "Getting run …": the start of every message about this call.</summary>
        public string Operation { get; }
        public ZeroingBufferWriter? Body { get; }
        public string? IdempotencyKey { get; }
        public SecretScrubber Scrubber { get; }

        /// <summary>
        /// A read may be sent again after any transient failure. A POST /runs only when the server provably did not
        /// accept it (spec §11): after an ambiguous failure its outcome is unknown, and it is not resent.
        /// </summary>
        public bool Resendable => Body is null;
    }
}
