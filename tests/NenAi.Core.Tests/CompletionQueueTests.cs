using System;
using System.Threading;
using System.Threading.Tasks;
using NenAi.Core.Batch;
using Xunit;

namespace NenAi.Core.Tests
{
    public class CompletionQueueTests
    {
        [Fact]
        public async Task WorkThatEndsAfterTheQueueWasDisposedFaultsNoTask()
        {
            // A stop disposes the queue while a request is still on the wire; when it ends, its outcome has no taker.
            // Its task faulted with ObjectDisposedException, seen as an unobserved task exception (CI, once).
            var onTheWire = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            var queue = new CompletionQueue<string>(1);
            await queue.EnterAsync(CancellationToken.None);
            Task running = queue.Run(() => onTheWire.Task);
            queue.Dispose();

            onTheWire.SetResult("late");

            await running.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(running.IsCompletedSuccessfully, running.Exception?.ToString());
        }
    }
}
