using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace NenAi.Bench
{
    /// <summary>Samples this process's working set every 50 ms and keeps the peak, from a settled baseline.</summary>
    public sealed class PeakWorkingSet : IAsyncDisposable
    {
        private readonly Process _self = Process.GetCurrentProcess();
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private readonly Task _sampler;
        private long _peak;

        public PeakWorkingSet()
        {
            GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();
            _self.Refresh();
            Baseline = _peak = _self.WorkingSet64;
            _sampler = Task.Run(SampleAsync);
        }

        public long Baseline { get; }
        public long Peak => Interlocked.Read(ref _peak);

        private async Task SampleAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                _self.Refresh();
                long ws = _self.WorkingSet64;
                if (ws > Interlocked.Read(ref _peak)) Interlocked.Exchange(ref _peak, ws);
                try { await Task.Delay(50, _stop.Token); } catch (OperationCanceledException) { }
            }
        }

        public static double MB(long bytes) => bytes / 1024.0 / 1024.0;

        public async ValueTask DisposeAsync()
        {
            _stop.Cancel();
            await _sampler;
            _stop.Dispose();
        }
    }
}
