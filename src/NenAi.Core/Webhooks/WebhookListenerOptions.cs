using System;
using System.Collections.Generic;
using NenAi.Core.Configuration;

namespace NenAi.Core.Webhooks
{
    public sealed class WebhookListenerOptions
    {
        /// <summary>HttpListener prefixes, such as http://+:8089/nen/ (checked by <see cref="WebhookPrefix.Check"/>).</summary>
        public IReadOnlyList<string> Prefixes { get; set; } = Array.Empty<string>();
        /// <summary>The webhook secrets; a delivery verifies when any one matches (key rotation).</summary>
        public IReadOnlyList<SecretValue> Secrets { get; set; } = Array.Empty<SecretValue>();
        /// <summary>Bodies past this are answered 413 without being read (a run status is a few kilobytes).</summary>
        public int MaxBodyBytes { get; set; } = 1024 * 1024;
        /// <summary>How long a body may take to arrive; the sender itself gives up after 5 s (spec §6.2).</summary>
        public TimeSpan BodyTimeout { get; set; } = TimeSpan.FromSeconds(5);
        /// <summary>Deliveries handled at once; beyond it a request is answered 503 at once, so memory stays bounded.</summary>
        public int MaxConcurrentDeliveries { get; set; } = 64;
    }
}
