using System.Collections.Generic;

namespace NenAi.Emulator
{
    /// <summary>
    /// What happens to the webhooks of particular runs (deterministic tests): the run with <see cref="MessageId"/>,
    /// or, without one, the next <see cref="Count"/> runs accepted.
    /// </summary>
    public sealed class ScriptedWebhookFault
    {
        public string? MessageId { get; set; }
        public int Count { get; set; } = 1;
        /// <summary>Updates never delivered: "processing", "final" (success/failed) or "all".</summary>
        public List<string> Drop { get; set; } = new List<string>();
        /// <summary>How many times each update is delivered (2: a duplicate, sent at the same time).</summary>
        public int Copies { get; set; } = 1;
        /// <summary>Every delivery waits this long first.</summary>
        public int DelayMs { get; set; }
        /// <summary>The final update is sent first, then "processing".</summary>
        public bool Reorder { get; set; }
    }
}
