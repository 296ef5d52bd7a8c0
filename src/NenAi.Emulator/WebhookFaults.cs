using System;
using System.Collections.Generic;
using System.Linq;

namespace NenAi.Emulator
{
    /// <summary>What happens to one update's delivery: lost, sent several times at once, and after what delay.</summary>
    public sealed class DeliveryPlan
    {
        public DeliveryPlan(bool drop, int copies, int delayMs)
        {
            Drop = drop;
            Copies = Math.Max(1, copies);
            DelayMs = Math.Max(0, delayMs);
        }

        public bool Drop { get; }
        public int Copies { get; }
        public int DelayMs { get; }
    }

    /// <summary>
    /// Webhook delivery faults (spec §6.5): drop, duplicate, delay and reorder, per run (scripted, by message id or
    /// for the next runs accepted) or by rate (<see cref="WebhookConfig"/>, replaceable at run time).
    /// </summary>
    public sealed class WebhookFaults
    {
        private readonly object _gate = new object();
        private readonly List<ScriptedWebhookFault> _scripted = new List<ScriptedWebhookFault>();
        private readonly Dictionary<string, ScriptedWebhookFault> _assigned = new Dictionary<string, ScriptedWebhookFault>(StringComparer.OrdinalIgnoreCase);
        private WebhookConfig _config;
        private Random _random;

        public WebhookFaults(WebhookConfig config)
        {
            _config = config;
            _random = SeededRandom.For(config.Seed);
        }

        public WebhookConfig Config { get { lock (_gate) return _config; } }

        public void Replace(WebhookConfig config)
        {
            lock (_gate)
            {
                _config = config;
                _random = SeededRandom.For(config.Seed);
            }
        }

        public void Script(ScriptedWebhookFault fault) { lock (_gate) _scripted.Add(fault); }

        public void Clear(WebhookConfig config)
        {
            lock (_gate)
            {
                _scripted.Clear();
                _assigned.Clear();
            }
            Replace(config);
        }

        /// <summary>Called once when a run is accepted: a scripted fault for "the next runs" is taken by it.</summary>
        public void Assign(string messageId)
        {
            lock (_gate)
            {
                int i = _scripted.FindIndex(s => string.IsNullOrEmpty(s.MessageId));
                if (i < 0) return;
                ScriptedWebhookFault fault = _scripted[i];
                if (--fault.Count <= 0) _scripted.RemoveAt(i);
                _assigned[messageId] = fault;
            }
        }

        /// <summary>Whether the run's final update goes before its processing one.</summary>
        public bool Reorder(string messageId)
        {
            lock (_gate)
            {
                ScriptedWebhookFault? fault = Find(messageId);
                return fault != null ? fault.Reorder : _config.ReorderRate > 0 && _random.NextDouble() < _config.ReorderRate;
            }
        }

        /// <summary>The plan for one update ("processing", "success" or "failed") of a run.</summary>
        public DeliveryPlan Plan(string messageId, string status)
        {
            lock (_gate)
            {
                ScriptedWebhookFault? fault = Find(messageId);
                if (fault != null)
                {
                    bool dropped = fault.Drop.Any(d => string.Equals(d, "all", StringComparison.OrdinalIgnoreCase) ||
                        string.Equals(d, status, StringComparison.OrdinalIgnoreCase) ||
                        (string.Equals(d, "final", StringComparison.OrdinalIgnoreCase) && status != "processing"));
                    return new DeliveryPlan(dropped, fault.Copies, fault.DelayMs);
                }
                bool drop = _config.DropRate > 0 && _random.NextDouble() < _config.DropRate;
                bool twice = _config.Duplicate || (_config.DuplicateRate > 0 && _random.NextDouble() < _config.DuplicateRate);
                int delay = _config.DelayMs + (_config.DelayJitterMs > 0 ? _random.Next(0, _config.DelayJitterMs + 1) : 0);
                return new DeliveryPlan(drop, twice ? 2 : 1, delay);
            }
        }

        private ScriptedWebhookFault? Find(string messageId)
        {
            ScriptedWebhookFault? byId = _scripted.FirstOrDefault(s => string.Equals(s.MessageId, messageId, StringComparison.OrdinalIgnoreCase));
            return byId ?? (_assigned.TryGetValue(messageId, out ScriptedWebhookFault? next) ? next : null);
        }
    }
}
