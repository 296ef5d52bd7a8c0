using System;
using System.Linq;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using NenAi.Core.Signing;

namespace NenAi.Emulator
{
    /// <summary>
    /// Sends the signed "processing" and final webhooks of a run (spec §6 and §11 Q4): a delivery fails on
    /// non-2xx or after the timeout and is retried with back-off. <see cref="WebhookFaults"/> can drop, duplicate,
    /// delay and reorder them; every attempt, and every dropped update, is recorded for tests.
    /// </summary>
    public sealed class WebhookDispatcher
    {
        private static readonly HttpClient Http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = Timeout.InfiniteTimeSpan };
        private readonly EmulatorState _state;
        private readonly Func<EmulatedRun, string, string> _payload;
        private readonly CancellationToken _stopping;

        public WebhookDispatcher(EmulatorState state, Func<EmulatedRun, string, string> payload, CancellationToken stopping)
        {
            _state = state;
            _payload = payload;
            _stopping = stopping;
        }

        public void Schedule(EmulatedRun run)
        {
            if (string.IsNullOrEmpty(run.WebhookCallback)) return;
            _state.WebhookFaults.Assign(run.MessageId);
            _ = Task.Run(async () =>
            {
                try
                {
                    string final = run.Fails ? "failed" : "success";
                    await DelayUntil(run.StartsAt).ConfigureAwait(false);
                    if (_state.WebhookFaults.Reorder(run.MessageId))
                    {
                        await DelayUntil(run.EndsAt).ConfigureAwait(false);
                        await DeliverAsync(run, final).ConfigureAwait(false);
                        await DeliverAsync(run, "processing").ConfigureAwait(false);
                        return;
                    }
                    await DeliverAsync(run, "processing").ConfigureAwait(false);
                    await DelayUntil(run.EndsAt).ConfigureAwait(false);
                    await DeliverAsync(run, final).ConfigureAwait(false);
                }
                catch (OperationCanceledException) { }
            });
        }

        private Task DelayUntil(DateTimeOffset at)
        {
            TimeSpan wait = at - _state.Now;
            return wait > TimeSpan.Zero ? Task.Delay(wait, _stopping) : Task.CompletedTask;
        }

        /// <summary>One update: dropped, or sent (each copy at once, each with its retries) after its delay, in the background.</summary>
        private Task DeliverAsync(EmulatedRun run, string status)
        {
            DeliveryPlan plan = _state.WebhookFaults.Plan(run.MessageId, status);
            if (plan.Drop)
            {
                _state.RecordDelivery(new WebhookDelivery { MessageId = run.MessageId, Status = status, Attempt = 0, Failure = "dropped", At = _state.Now });
                return Task.CompletedTask;
            }
            byte[] body = Encoding.UTF8.GetBytes(_payload(run, status));
            string signature = WebhookSignature.Compute(Encoding.UTF8.GetBytes(_state.Config.WebhookSecret), body);
            Task sent = Task.Run(async () =>
            {
                if (plan.DelayMs > 0) await Task.Delay(plan.DelayMs, _stopping).ConfigureAwait(false);
                await Task.WhenAll(Enumerable.Range(1, plan.Copies).Select(copy => SendAsync(run, status, body, signature, copy))).ConfigureAwait(false);
            });
            // A delayed update does not hold up the next one (so a delay can reorder them); an undelayed one is
            // sent before the next, as the service does.
            return plan.DelayMs > 0 ? Task.CompletedTask : sent;
        }

        private async Task SendAsync(EmulatedRun run, string status, byte[] body, string signature, int copy)
        {
            WebhookConfig config = _state.WebhookFaults.Settings;
            for (int attempt = 1; attempt <= Math.Max(1, config.MaxAttempts); attempt++)
            {
                int? code = null;
                string? failure = null;
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, run.WebhookCallback) { Content = new ByteArrayContent(body) };
                    request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
                    request.Headers.TryAddWithoutValidation(WebhookSignature.HeaderName, signature);
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping);
                    timeout.CancelAfter(TimeSpan.FromSeconds(config.TimeoutSeconds));
                    using HttpResponseMessage response = await Http.SendAsync(request, timeout.Token).ConfigureAwait(false);
                    code = (int)response.StatusCode;
                    if (!response.IsSuccessStatusCode) failure = "non-2xx";
                }
                catch (OperationCanceledException) when (!_stopping.IsCancellationRequested) { failure = "timeout"; }
                catch (HttpRequestException ex) { failure = ex.HttpRequestError.ToString(); }
                _state.RecordDelivery(new WebhookDelivery { MessageId = run.MessageId, Status = status, Attempt = attempt, Copy = copy, HttpStatus = code, Failure = failure, At = _state.Now });
                if (failure is null) return;
                await Task.Delay(TimeSpan.FromMilliseconds(config.BackoffMilliseconds * Math.Pow(2, attempt - 1)), _stopping).ConfigureAwait(false);
            }
        }
    }
}
