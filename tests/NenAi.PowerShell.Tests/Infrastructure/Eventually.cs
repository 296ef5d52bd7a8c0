using System;
using System.Diagnostics;
using System.Threading;

namespace NenAi.PowerShell.Tests.Infrastructure
{
    /// <summary>
    /// Waits for a condition the test cannot be notified of (a count on the emulator's side), checking it
    /// often, and reports how long it took; false when the deadline passes first.
    /// </summary>
    public static class Eventually
    {
        public static bool True(Func<bool> condition, TimeSpan within)
        {
            var clock = Stopwatch.StartNew();
            var spin = new SpinWait();
            while (!condition())
            {
                if (clock.Elapsed > within) return condition();
                if (spin.NextSpinWillYield) Thread.Sleep(5); else spin.SpinOnce();
            }
            return true;
        }
    }
}
