using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace NenAi.TestSupport
{
    /// <summary>
    /// Waits for a condition the test cannot be notified of (a count on the emulator's side), checking it
    /// often; false when the deadline passes first. The deadline is a ceiling for a loaded CI machine, not the
    /// expected time: a passing test returns as soon as the condition holds.
    /// </summary>
    public static class Eventually
    {
        public static readonly TimeSpan Ceiling = TimeSpan.FromSeconds(60);

        /// <summary>
        /// For async tests: awaits between checks, so the wait holds no thread-pool thread. A blocking wait there
        /// takes a thread the in-process emulator needs to answer, and under a loaded, parallel test run the
        /// request being waited for was not served within the deadline (CI: "0 of 4 sent" after 10 s).
        /// </summary>
        public static async Task<bool> TrueAsync(Func<bool> condition, TimeSpan? within = null)
        {
            var clock = Stopwatch.StartNew();
            TimeSpan limit = within ?? Ceiling;
            while (!condition())
            {
                if (clock.Elapsed > limit) return condition();
                await Task.Delay(5).ConfigureAwait(false);
            }
            return true;
        }

        /// <summary>For tests that run on a thread of their own (a PowerShell pipeline, a synchronous fact).</summary>
        public static bool True(Func<bool> condition, TimeSpan? within = null)
        {
            var clock = Stopwatch.StartNew();
            TimeSpan limit = within ?? Ceiling;
            var spin = new SpinWait();
            while (!condition())
            {
                if (clock.Elapsed > limit) return condition();
                if (spin.NextSpinWillYield) Thread.Sleep(5); else spin.SpinOnce();
            }
            return true;
        }
    }
}
