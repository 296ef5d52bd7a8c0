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
    public sealed class WebhookFaults : SeededFaults<WebhookConfig, ScriptedWebhookFault>
    {
        private readonly Dictionary<string, ScriptedWebhookFault> _assigned = new Dictionary<string, ScriptedWebhookFault>(StringComparer.OrdinalIgnoreCase);

        public WebhookFaults(WebhookConfig config) : base(config, c => c.Seed) { }

        public void Clear(WebhookConfig config)
        {
            lock (Gate)
            {
                Scripted.Clear();
                _assigned.Clear();
                Replace(config);
            }
        }

        /// <summary>Called once when a run is accepted: a scripted fault for "the next runs" is taken by it.</summary>
        public void Assign(string messageId)
        {
            lock (Gate)
            {
                int i = Scripted.FindIndex(s => string.IsNullOrEmpty(s.MessageId));
                if (i < 0) return;
                ScriptedWebhookFault fault = Scripted[i];
                if (--fault.Count <= 0) Scripted.RemoveAt(i);
                _assigned[messageId] = fault;
            }
        }

        /// <summary>Whether the run's final update goes before its processing one.</summary>
        public bool Reorder(string messageId)
        {
            lock (Gate)
            {
                ScriptedWebhookFault? fault = Find(messageId);
                return fault != null ? fault.Reorder : Current.ReorderRate > 0 && Draw.NextDouble() < Current.ReorderRate;
            }
        }

        /// <summary>The plan for one update ("processing", "success" or "failed") of a run.</summary>
        public DeliveryPlan Plan(string messageId, string status)
        {
            lock (Gate)
            {
                ScriptedWebhookFault? fault = Find(messageId);
                if (fault != null)
                {
                    bool dropped = fault.Drop.Any(d => string.Equals(d, "all", StringComparison.OrdinalIgnoreCase) ||
                        string.Equals(d, status, StringComparison.OrdinalIgnoreCase) ||
                        (string.Equals(d, "final", StringComparison.OrdinalIgnoreCase) && status != "processing"));
                    return new DeliveryPlan(dropped, fault.Copies, fault.DelayMs);
                }
                bool drop = Current.DropRate > 0 && Draw.NextDouble() < Current.DropRate;
                bool twice = Current.Duplicate || (Current.DuplicateRate > 0 && Draw.NextDouble() < Current.DuplicateRate);
                int delay = Current.DelayMs + (Current.DelayJitterMs > 0 ? Draw.Next(0, Current.DelayJitterMs + 1) : 0);
                return new DeliveryPlan(drop, twice ? 2 : 1, delay);
            }
        }

        private ScriptedWebhookFault? Find(string messageId)
        {
            ScriptedWebhookFault? byId = Scripted.FirstOrDefault(s => string.Equals(s.MessageId, messageId, StringComparison.OrdinalIgnoreCase));
            return byId ?? (_assigned.TryGetValue(messageId, out ScriptedWebhookFault? next) ? next : null);
        }
    }
}
