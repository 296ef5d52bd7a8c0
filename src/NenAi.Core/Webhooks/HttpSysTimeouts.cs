using System;
using System.Net;

namespace NenAi.Core.Webhooks
{
    /// <summary>
    /// The deadlines http.sys (HttpListener on Windows, either build) enforces in the kernel, before a request reaches
    /// the receiver: its headers (HeaderWait) and its body (EntityBody). .NET's own listener on Linux and macOS has
    /// no such settings (setting them throws PlatformNotSupportedException): there the body deadline is the
    /// receiver's own, and a connection whose headers never end is dropped by .NET after 90 s, holding no delivery
    /// slot meanwhile.
    /// </summary>
    internal readonly struct HttpSysTimeouts
    {
        private HttpSysTimeouts(TimeSpan headerWait, TimeSpan entityBody)
        {
            HeaderWait = headerWait;
            EntityBody = entityBody;
        }

        public TimeSpan HeaderWait { get; }
        public TimeSpan EntityBody { get; }

        /// <summary>What to set, or null when the platform's listener is not http.sys (pure, so every platform's answer is tested).</summary>
        public static HttpSysTimeouts? For(WebhookListenerOptions options, bool windows) =>
            windows ? new HttpSysTimeouts(WholeSeconds(options.HeaderTimeout), WholeSeconds(options.BodyTimeout)) : (HttpSysTimeouts?)null;

        /// <summary>http.sys keeps timeouts in whole seconds (1 to 65535): a fraction is rounded up, never down to "the default".</summary>
        private static TimeSpan WholeSeconds(TimeSpan value) => TimeSpan.FromSeconds(Math.Min(ushort.MaxValue, Math.Max(1, Math.Ceiling(value.TotalSeconds))));

        public void ApplyTo(HttpListener listener)
        {
            HttpListenerTimeoutManager timeouts = listener.TimeoutManager;
#pragma warning disable CA1416 // For() returns a value on Windows only
            timeouts.HeaderWait = HeaderWait;
            timeouts.EntityBody = EntityBody;
#pragma warning restore CA1416
        }
    }
}
