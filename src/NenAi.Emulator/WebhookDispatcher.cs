using System;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using NenAi.Core.Signing;

namespace NenAi.Emulator
{
    /// <summary>
    /// Sends the signed "processing" and final webhooks of a run (spec §6 and §11 Q4): a delivery fails on
    /// non-2xx or after the timeout and is retried with back-off; duplicates can be switched on.
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
            _ = Task.Run(async () =>
            {
                try
                {
                    await DelayUntil(run.StartsAt).ConfigureAwait(false);
                    await DeliverAsync(run, "processing").ConfigureAwait(false);
                    await DelayUntil(run.EndsAt).ConfigureAwait(false);
                    await DeliverAsync(run, run.Fails ? "failed" : "success").ConfigureAwait(false);
                }
                catch (OperationCanceledException) { }
            });
        }

        private Task DelayUntil(DateTimeOffset at)
        {
            TimeSpan wait = at - _state.Now;
            return wait > TimeSpan.Zero ? Task.Delay(wait, _stopping) : Task.CompletedTask;
        }

        private async Task DeliverAsync(EmulatedRun run, string status)
        {
            byte[] body = Encoding.UTF8.GetBytes(_payload(run, status));
            string signature = WebhookSignature.Compute(Encoding.UTF8.GetBytes(_state.Config.WebhookSecret), body);
            int copies = _state.Config.Webhooks.Duplicate ? 2 : 1;
            for (int copy = 0; copy < copies; copy++)
            {
                for (int attempt = 1; attempt <= Math.Max(1, _state.Config.Webhooks.MaxAttempts); attempt++)
                {
                    int? code = null;
                    string? failure = null;
                    try
                    {
                        using var request = new HttpRequestMessage(HttpMethod.Post, run.WebhookCallback) { Content = new ByteArrayContent(body) };
                        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
                        request.Headers.TryAddWithoutValidation(WebhookSignature.HeaderName, signature);
                        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping);
                        timeout.CancelAfter(TimeSpan.FromSeconds(_state.Config.Webhooks.TimeoutSeconds));
                        using HttpResponseMessage response = await Http.SendAsync(request, timeout.Token).ConfigureAwait(false);
                        code = (int)response.StatusCode;
                        if (!response.IsSuccessStatusCode) failure = "non-2xx";
                    }
                    catch (OperationCanceledException) when (!_stopping.IsCancellationRequested) { failure = "timeout"; }
                    catch (HttpRequestException ex) { failure = ex.HttpRequestError.ToString(); }
                    _state.RecordDelivery(new WebhookDelivery { MessageId = run.MessageId, Status = status, Attempt = attempt, HttpStatus = code, Failure = failure, At = _state.Now });
                    if (failure is null) break;
                    await Task.Delay(TimeSpan.FromMilliseconds(_state.Config.Webhooks.BackoffMilliseconds * Math.Pow(2, attempt - 1)), _stopping).ConfigureAwait(false);
                }
            }
        }
    }
}
