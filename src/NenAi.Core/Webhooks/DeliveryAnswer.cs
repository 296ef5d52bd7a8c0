using System;
using System.Threading.Tasks;
using NenAi.Core.Errors;

namespace NenAi.Core.Webhooks
{
    /// <summary>What the listener answers a verified update, once <see cref="Durable"/> (when there is one) has completed.</summary>
    public readonly struct DeliveryAnswer
    {
        private DeliveryAnswer(int status, int? retryAfterSeconds, Task? durable, NenException? failure, Action<NenException>? whenNotRecorded)
        {
            Status = status;
            RetryAfterSeconds = retryAfterSeconds;
            Durable = durable;
            Failure = failure;
            WhenNotRecorded = whenNotRecorded;
        }

        public int Status { get; }
        public int? RetryAfterSeconds { get; }
        /// <summary>The update's record reaching the disk: the 200 waits for it; when it fails the answer is 500.</summary>
        public Task? Durable { get; }
        /// <summary>Why the update could not be recorded (the answer is 500).</summary>
        public NenException? Failure { get; }
        /// <summary>Called once the 500 for an update that could not be recorded has gone out (the receiver then stops).</summary>
        public Action<NenException>? WhenNotRecorded { get; }

        /// <summary>200 at once (a duplicate, or an update that needs no writing).</summary>
        public static DeliveryAnswer Ok { get; } = new DeliveryAnswer(200, null, null, null, null);

        /// <summary>200 once <paramref name="durable"/> has completed; 500 and <paramref name="whenNotRecorded"/> when it fails.</summary>
        public static DeliveryAnswer OkOnceRecorded(Task durable, Action<NenException> whenNotRecorded) => new DeliveryAnswer(200, null, durable, null, whenNotRecorded);

        /// <summary>500: the update could not be recorded, so it is not acknowledged; then <paramref name="whenNotRecorded"/>.</summary>
        public static DeliveryAnswer NotRecorded(NenException failure, Action<NenException> whenNotRecorded) => new DeliveryAnswer(500, null, null, failure, whenNotRecorded);

        /// <summary>503 with Retry-After: not taken, so the sender sends it again.</summary>
        public static DeliveryAnswer NotNow(int retryAfterSeconds) => new DeliveryAnswer(503, retryAfterSeconds, null, null, null);
    }
}
