using System;
using System.Collections.Generic;
using NenAi.Core.Configuration;

namespace NenAi.Core.Webhooks
{
    public sealed class WebhookListenerOptions
    {
        public const int DefaultMaxBodyBytes = 1024 * 1024;
        public const long DefaultMaxRequestMemoryBytes = 128L * 1024 * 1024;
        /// <summary>The sender gives up on a delivery after 5 s (spec §6.2): a client slower than that is no real delivery.</summary>
        public static readonly TimeSpan DefaultReadTimeout = TimeSpan.FromSeconds(5);

        /// <summary>HttpListener prefixes, such as http://+:8089/nen/ (checked by <see cref="WebhookPrefix.Check"/>).</summary>
        public IReadOnlyList<string> Prefixes { get; set; } = Array.Empty<string>();
        /// <summary>The webhook secrets; a delivery verifies when any one matches (key rotation).</summary>
        public IReadOnlyList<SecretValue> Secrets { get; set; } = Array.Empty<SecretValue>();
        /// <summary>Bodies past this are answered 413 without being read (a run status is a few kilobytes).</summary>
        public int MaxBodyBytes { get; set; } = DefaultMaxBodyBytes;
        /// <summary>How long a body may take to arrive once its request's headers have.</summary>
        public TimeSpan BodyTimeout { get; set; } = DefaultReadTimeout;
        /// <summary>How long a request's headers may take to arrive: applied by http.sys (Windows); elsewhere .NET's listener keeps its own limit.</summary>
        public TimeSpan HeaderTimeout { get; set; } = DefaultReadTimeout;
        /// <summary>
        /// The memory requests in progress may hold: each counts <see cref="RequestMemoryBudget.RequestOverheadBytes"/>
        /// plus its body as it arrives. Past it a request is answered 503 with Retry-After at once, so any number of
        /// slow or idle clients cost bounded memory, and only a flood that fills it can delay a delivery.
        /// </summary>
        public long MaxRequestMemoryBytes { get; set; } = DefaultMaxRequestMemoryBytes;

        /// <summary>The least <see cref="MaxRequestMemoryBytes"/> that holds one request with a body of <paramref name="maxBodyBytes"/>.</summary>
        public static long MinimumRequestMemory(int maxBodyBytes) => RequestMemoryBudget.RequestOverheadBytes + (long)maxBodyBytes;
    }
}
