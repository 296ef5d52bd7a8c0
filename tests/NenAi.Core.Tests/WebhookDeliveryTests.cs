using System;
using System.Collections.Concurrent;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using NenAi.TestSupport;
using NenAi.Core.Configuration;
using NenAi.Core.Signing;
using NenAi.Core.Tests.Infrastructure;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>The emulator's signed webhooks, received by a real loopback receiver and checked with the core.</summary>
    public class WebhookDeliveryTests
    {
        private sealed record Received(byte[] Body, string? Signature);

        private static async Task<(WebApplication App, Uri Url, ConcurrentQueue<Received> Inbox, TaskCompletionSource Final)> StartReceiver(int failFirst = 0)
        {
            var inbox = new ConcurrentQueue<Received>();
            var final = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            int calls = 0;
            var (app, address) = await LoopbackApp.StartAsync(a => a.MapPost("/hook", async (HttpContext ctx) =>
            {
                using var ms = new MemoryStream();
                await ctx.Request.Body.CopyToAsync(ms);
                if (System.Threading.Interlocked.Increment(ref calls) <= failFirst) return Results.StatusCode(500);
                inbox.Enqueue(new Received(ms.ToArray(), ctx.Request.Headers["X-Hmac-Signature"].FirstOrDefault()));
                if (System.Text.Encoding.UTF8.GetString(ms.ToArray()).Contains("\"success\"")) final.TrySetResult();
                return Results.Ok();
            }));
            return (app, new Uri(address, "hook"), inbox, final);
        }

        [Fact]
        public async Task ProcessingThenSuccessArriveSignedWithTheWebhookSecret()
        {
            var (app, url, inbox, final) = await StartReceiver();
            await using var _ = app;
            await using var emu = await TestEmulator.StartAsync();
            var request = Requests.Echo();
            request.WebhookCallback = url;
            var run = await emu.Client().StartRunAsync(request);
            await final.Task.WaitAsync(TimeSpan.FromSeconds(20));

            using SecretValue secret = TestEmulator.Secret(TestEmulator.WebhookSecret);
            var bodies = inbox.ToArray();
            Assert.Equal(2, bodies.Length);
            Assert.All(bodies, r => Assert.True(WebhookSignature.Verify(r.Body, r.Signature, new[] { secret }).IsValid));
            Assert.Contains("\"status\":\"processing\"", System.Text.Encoding.UTF8.GetString(bodies[0].Body));
            Assert.Contains(run.MessageId, System.Text.Encoding.UTF8.GetString(bodies[1].Body));

            using SecretValue wrong = TestEmulator.Secret("whsec-wrong");
            Assert.False(WebhookSignature.Verify(bodies[0].Body, bodies[0].Signature, new[] { wrong }).IsValid);
            byte[] tampered = (byte[])bodies[0].Body.Clone();
            tampered[^2] ^= 1;
            Assert.False(WebhookSignature.Verify(tampered, bodies[0].Signature, new[] { secret }).IsValid);
        }

        [Fact]
        public async Task FailedDeliveriesAreRetried()
        {
            var (app, url, inbox, final) = await StartReceiver(failFirst: 2);
            await using var _ = app;
            await using var emu = await TestEmulator.StartAsync(c => c.Webhooks.BackoffMilliseconds = 20);
            var request = Requests.Echo();
            request.WebhookCallback = url;
            await emu.Client().StartRunAsync(request);
            await final.Task.WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Equal(3, emu.State.Deliveries.Count(d => d.Status == "processing"));
            Assert.Equal(2, emu.State.Deliveries.Count(d => d.Failure == "non-2xx"));
        }

        [Fact]
        public async Task ARunsWebhooksCanBeScriptedToComeReorderedDuplicatedOrNotAtAll()
        {
            var (app, url, inbox, final) = await StartReceiver();
            await using var _ = app;
            await using var emu = await TestEmulator.StartAsync();
            var request = Requests.Echo();
            request.WebhookCallback = url;
            await emu.ScriptWebhooksAsync(new NenAi.Emulator.ScriptedWebhookFault { Count = 1, Reorder = true, Copies = 2 });
            await emu.ScriptWebhooksAsync(new NenAi.Emulator.ScriptedWebhookFault { Count = 1, Drop = { "processing" } });

            string reordered = (await emu.Client().StartRunAsync(request)).MessageId;
            await final.Task.WaitAsync(TimeSpan.FromSeconds(20));
            Assert.True(await Eventually.TrueAsync(() => inbox.Count == 4), $"{inbox.Count} deliveries");
            string statuses = string.Join(",", inbox.Select(r => System.Text.Encoding.UTF8.GetString(r.Body)).Select(b => b.Contains("\"success\"") ? "success" : "processing"));
            var another = Requests.Echo("another"); // a new request: the same one would get the same run back (Idempotency-Key)
            another.WebhookCallback = url;
            string lost = (await emu.Client().StartRunAsync(another)).MessageId;
            Assert.True(await Eventually.TrueAsync(() => emu.State.Deliveries.Any(d => d.MessageId == lost && d.Status == "success")));

            Assert.Equal("success,success,processing,processing", statuses); // the final update first, each twice
            Assert.Equal(new[] { 1, 2 }, emu.State.Deliveries.Where(d => d.MessageId == reordered && d.Status == "success").Select(d => d.Copy).OrderBy(c => c));
            var dropped = Assert.Single(emu.State.Deliveries, d => d.MessageId == lost && d.Status == "processing");
            Assert.Equal("dropped", dropped.Failure);
            Assert.Equal(0, dropped.Attempt);
        }
    }
}

