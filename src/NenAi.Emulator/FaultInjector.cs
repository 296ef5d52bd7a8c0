using System;
using System.Collections.Generic;

namespace NenAi.Emulator
{
    /// <summary>The fault (if any) to apply to one request.</summary>
    public sealed class FaultDecision(string? kind, int latencyMs, int retryAfterSeconds, bool retryAfterAsDate, ScriptedFault? script = null)
    {
        public static readonly FaultDecision None = new FaultDecision(null, 0, 1, false);

        /// <summary>The scripted fault this decision came from (raw answers, verbatim Retry-After), if any.</summary>
        public ScriptedFault? Script { get; } = script;

        public string? Kind { get; } = kind;
        public int LatencyMs { get; } = latencyMs;
        public int RetryAfterSeconds { get; } = retryAfterSeconds;
        public bool RetryAfterAsDate { get; } = retryAfterAsDate;
    }

    /// <summary>Draws faults from the configured rates, after serving any scripted ones first.</summary>
    public sealed class FaultInjector : SeededFaults<FaultSettings, ScriptedFault>
    {
        private int _decided;
        /// <summary>When the timed storm (<see cref="FaultSettings.StormForSeconds"/>) began; null until its first request.</summary>
        private DateTime? _stormBegan;

        public FaultInjector(FaultSettings settings) : base(settings, s => s.Seed) { }

        protected override void OnReplaced()
        {
            _decided = 0;
            _stormBegan = null;
        }

        public void Clear()
        {
            lock (Gate)
            {
                Scripted.Clear();
                Replace(new FaultSettings());
            }
        }

        /// <param name="route">"POST /runs", "GET /runs" or "GET /files".</param>
        /// <param name="headerFault">The x-emulator-fault request header, for manual experiments.</param>
        /// <param name="messageId">The run the request is about (null: none, a POST).</param>
        public FaultDecision Decide(string route, string? headerFault, string? messageId = null)
        {
            lock (Gate)
            {
                FaultSettings settings = Current;
                int latency = settings.LatencyMs + (settings.JitterMs > 0 ? Draw.Next(0, settings.JitterMs + 1) : 0);
                if (!string.IsNullOrWhiteSpace(headerFault)) return new FaultDecision(headerFault!.Trim().ToLowerInvariant(), latency, settings.RetryAfterSeconds, false);

                for (int i = 0; i < Scripted.Count; i++)
                {
                    ScriptedFault s = Scripted[i];
                    if (s.Route != "*" && !string.Equals(s.Route, route, StringComparison.OrdinalIgnoreCase)) continue;
                    if (s.MessageId != null && !string.Equals(s.MessageId, messageId, StringComparison.OrdinalIgnoreCase)) continue;
                    if (--s.Count <= 0) Scripted.RemoveAt(i);
                    return new FaultDecision(s.Kind.ToLowerInvariant(), latency + s.LatencyMs, s.RetryAfterSeconds, s.RetryAfterAsDate, s);
                }

                if (route == "GET /files")
                {
                    if (settings.RateTruncateDownload > 0 && Draw.NextDouble() < settings.RateTruncateDownload)
                        return new FaultDecision("truncate-download", latency, 0, false);
                    return settings.DownloadBytesPerSecond > 0 ? new FaultDecision("slow-download", latency, 0, false) : new FaultDecision(null, latency, 0, false);
                }
                bool applies = settings.ApplyTo switch
                {
                    "post" => route == "POST /runs",
                    "get" => route == "GET /runs",
                    _ => true,
                };
                if (!applies) return new FaultDecision(null, latency, 0, false);
                int n = ++_decided;
                if (settings.StormForSeconds > 0 && n > settings.StormAfter)
                {
                    DateTime now = DateTime.UtcNow;
                    _stormBegan ??= now;
                    if ((now - _stormBegan.Value).TotalSeconds < settings.StormForSeconds)
                        return new FaultDecision(string.IsNullOrWhiteSpace(settings.StormKind) ? "429" : settings.StormKind.Trim().ToLowerInvariant(), latency, settings.StormRetryAfterSeconds, false);
                }
                else if (settings.StormAfter > 0 && n > settings.StormAfter && n <= settings.StormAfter + settings.StormLength)
                    return new FaultDecision(string.IsNullOrWhiteSpace(settings.StormKind) ? "429" : settings.StormKind.Trim().ToLowerInvariant(), latency, settings.StormRetryAfterSeconds, false);
                double r = Draw.NextDouble();
                string? kind = null;
                if ((r -= settings.Rate429) < 0) kind = "429";
                else if ((r -= settings.Rate503) < 0) kind = "503";
                else if ((r -= settings.Rate500) < 0) kind = "500";
                else if ((r -= settings.Rate500AfterAccept) < 0) kind = route == "POST /runs" ? "500-after-accept" : "500";
                else if ((r -= settings.RateReset) < 0) kind = "reset";
                else if ((r -= settings.RateResetAfterAccept) < 0) kind = route == "POST /runs" ? "reset-after-accept" : "reset";
                return new FaultDecision(kind, latency, settings.RetryAfterSeconds, false);
            }
        }
    }
}
