using System;
using System.Collections.Generic;

namespace NenAi.Emulator
{
    /// <summary>The fault (if any) to apply to one request.</summary>
    public sealed class FaultDecision
    {
        public static readonly FaultDecision None = new FaultDecision(null, 0, 1, false);

        public FaultDecision(string? kind, int latencyMs, int retryAfterSeconds, bool retryAfterAsDate, ScriptedFault? script = null)
        {
            Kind = kind;
            LatencyMs = latencyMs;
            RetryAfterSeconds = retryAfterSeconds;
            RetryAfterAsDate = retryAfterAsDate;
            Script = script;
        }

        /// <summary>The scripted fault this decision came from (raw answers, verbatim Retry-After), if any.</summary>
        public ScriptedFault? Script { get; }

        public string? Kind { get; }
        public int LatencyMs { get; }
        public int RetryAfterSeconds { get; }
        public bool RetryAfterAsDate { get; }
    }

    /// <summary>Draws faults from the configured rates, after serving any scripted ones first.</summary>
    public sealed class FaultInjector
    {
        private readonly object _gate = new object();
        private readonly List<ScriptedFault> _scripted = new List<ScriptedFault>();
        private FaultSettings _settings;
        private Random _random;
        private int _decided;

        public FaultInjector(FaultSettings settings)
        {
            _settings = settings;
            _random = SeededRandom.For(settings.Seed);
        }

        public FaultSettings Settings { get { lock (_gate) return _settings; } }

        public void Replace(FaultSettings settings)
        {
            lock (_gate)
            {
                _settings = settings;
                _random = SeededRandom.For(settings.Seed);
                _decided = 0;
            }
        }

        public void Script(ScriptedFault fault) { lock (_gate) _scripted.Add(fault); }

        public void Clear()
        {
            lock (_gate)
            {
                _scripted.Clear();
                _settings = new FaultSettings();
            }
        }

        /// <param name="route">"POST /runs", "GET /runs" or "GET /files".</param>
        /// <param name="headerFault">The x-emulator-fault request header, for manual experiments.</param>
        public FaultDecision Decide(string route, string? headerFault)
        {
            lock (_gate)
            {
                int latency = _settings.LatencyMs + (_settings.JitterMs > 0 ? _random.Next(0, _settings.JitterMs + 1) : 0);
                if (!string.IsNullOrWhiteSpace(headerFault)) return new FaultDecision(headerFault!.Trim().ToLowerInvariant(), latency, _settings.RetryAfterSeconds, false);

                for (int i = 0; i < _scripted.Count; i++)
                {
                    ScriptedFault s = _scripted[i];
                    if (s.Route != "*" && !string.Equals(s.Route, route, StringComparison.OrdinalIgnoreCase)) continue;
                    if (--s.Count <= 0) _scripted.RemoveAt(i);
                    return new FaultDecision(s.Kind.ToLowerInvariant(), latency + s.LatencyMs, s.RetryAfterSeconds, s.RetryAfterAsDate, s);
                }

                if (route == "GET /files")
                {
                    if (_settings.RateTruncateDownload > 0 && _random.NextDouble() < _settings.RateTruncateDownload)
                        return new FaultDecision("truncate-download", latency, 0, false);
                    return _settings.DownloadBytesPerSecond > 0 ? new FaultDecision("slow-download", latency, 0, false) : new FaultDecision(null, latency, 0, false);
                }
                bool applies = _settings.ApplyTo switch
                {
                    "post" => route == "POST /runs",
                    "get" => route == "GET /runs",
                    _ => true,
                };
                if (!applies) return new FaultDecision(null, latency, 0, false);
                int n = ++_decided;
                if (_settings.StormAfter > 0 && n > _settings.StormAfter && n <= _settings.StormAfter + _settings.StormLength)
                    return new FaultDecision(string.IsNullOrWhiteSpace(_settings.StormKind) ? "429" : _settings.StormKind.Trim().ToLowerInvariant(), latency, _settings.StormRetryAfterSeconds, false);
                double r = _random.NextDouble();
                string? kind = null;
                if ((r -= _settings.Rate429) < 0) kind = "429";
                else if ((r -= _settings.Rate503) < 0) kind = "503";
                else if ((r -= _settings.Rate500) < 0) kind = "500";
                else if ((r -= _settings.Rate500AfterAccept) < 0) kind = route == "POST /runs" ? "500-after-accept" : "500";
                else if ((r -= _settings.RateReset) < 0) kind = "reset";
                else if ((r -= _settings.RateResetAfterAccept) < 0) kind = route == "POST /runs" ? "reset-after-accept" : "reset";
                return new FaultDecision(kind, latency, _settings.RetryAfterSeconds, false);
            }
        }
    }
}
