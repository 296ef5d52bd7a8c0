using System.Threading.Tasks;

namespace NenAi.Core.Webhooks
{
    /// <summary>What the listener answers a verified update, once <see cref="Durable"/> (when there is one) has completed.</summary>
    public readonly struct DeliveryAnswer
    {
        private DeliveryAnswer(int status, int? retryAfterSeconds, Task? durable)
        {
            Status = status;
            RetryAfterSeconds = retryAfterSeconds;
            Durable = durable;
        }

        public int Status { get; }
        public int? RetryAfterSeconds { get; }
        /// <summary>The update's record reaching the disk: the 200 waits for it; when it fails the answer is 500.</summary>
        public Task? Durable { get; }

        /// <summary>200 at once (a duplicate, or an update that needs no writing).</summary>
        public static DeliveryAnswer Ok { get; } = new DeliveryAnswer(200, null, null);

        /// <summary>200 once <paramref name="durable"/> has completed.</summary>
        public static DeliveryAnswer OkOnceRecorded(Task durable) => new DeliveryAnswer(200, null, durable);

        /// <summary>500: the update could not be recorded, so it is not acknowledged.</summary>
        public static DeliveryAnswer NotRecorded { get; } = new DeliveryAnswer(500, null, null);

        /// <summary>503 with Retry-After: not taken, so the sender sends it again.</summary>
        public static DeliveryAnswer NotNow(int retryAfterSeconds) => new DeliveryAnswer(503, retryAfterSeconds, null);
    }
}
