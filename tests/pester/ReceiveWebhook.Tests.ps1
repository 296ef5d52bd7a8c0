#Requires -Version 7.4
# Pester 5: Receive-NenWebhook in real pwsh against the emulator process, whose webhooks are duplicated and
# dropped through its admin API; Ctrl+C is a real SIGINT to a child pwsh.

BeforeAll {
    $script:root = Resolve-Path (Join-Path $PSScriptRoot '../..')
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path $script:root 'tools/EmulatorProcess.psm1') -Force
    $script:manifest = Join-Path $script:root 'NenAi.psd1'
    Import-Module $script:manifest -Force

    $script:emulator = Start-EmulatorProcess -ConfigPath (Join-Path $PSScriptRoot 'emulator.pester.json')
    $script:baseUri = $script:emulator.BaseUri
    $script:echo = '11111111-1111-1111-1111-111111111111'
    $script:slow = '44444444-4444-4444-4444-444444444444'
    $script:secretText = 'canary-webhook-33ef08'   # the webhook secret of emulator.pester.json
    $script:secret = ConvertTo-SecretText $script:secretText
    $env:NEN_BASE_URL = $script:baseUri
    $env:NEN_API_KEY = 'pester-api-key'
    $env:NEN_SIGNING_KEY = 'pester-signing-key'
    Remove-Item Env:NEN_WEBHOOK_SECRET -ErrorAction SilentlyContinue

    function script:New-Prefix {
        $probe = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $probe.Start()
        $port = $probe.LocalEndpoint.Port
        $probe.Stop()
        "http://127.0.0.1:$port/nen/"
    }

    # True when a fresh HttpListener can take the prefix right now.
    function script:Test-PrefixFree {
        param([string] $Prefix)
        $listener = [System.Net.HttpListener]::new()
        $listener.Prefixes.Add($Prefix)
        try { $listener.Start(); $true } catch { $false } finally { $listener.Close() }
    }

    function script:Set-WebhookFaults {
        param([hashtable] $Settings)
        Invoke-RestMethod -Method Post -Uri "$script:baseUri/_emulator/webhooks" -ContentType 'application/json' -Body ($Settings | ConvertTo-Json) | Out-Null
    }
}

AfterAll {
    Stop-EmulatorProcess $script:emulator
    Remove-Item Env:NEN_BASE_URL, Env:NEN_API_KEY, Env:NEN_SIGNING_KEY -ErrorAction SilentlyContinue
    Remove-Module NenAi -ErrorAction SilentlyContinue
}

Describe 'Receive-NenWebhook' {
    It 'writes 200 final statuses, each once, through duplicated and dropped webhooks, and Get-NenRunResult saves every file' {
        Invoke-RestMethod -Method Post -Uri "$script:baseUri/_emulator/reset" | Out-Null
        Set-WebhookFaults @{ duplicateRate = 0.2; dropRate = 0.1; seed = 19; maxAttempts = 4; backoffMilliseconds = 200; timeoutSeconds = 5 }
        $prefix = New-Prefix
        $out = Join-Path $TestDrive 'results'
        $verbose = Join-Path $TestDrive 'verbose.txt'
        $rows = 1..200 | ForEach-Object { [pscustomobject]@{ NAME = "row $_" } }

        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        $files = $rows |
            Start-NenRun -WorkflowId $script:echo -WebhookCallback $prefix -ThrottleLimit 16 |
            Receive-NenWebhook -Prefix $prefix -WebhookSecret $script:secret -FallbackAfterSec 5 -PollIntervalSec 0.5 -TimeoutSec 300 -OutVariable statuses -Verbose 4> $verbose |
            Get-NenRunResult -Destination $out
        $elapsed = $clock.Elapsed
        $portFree = Test-PrefixFree $prefix

        $ledger = Get-EmulatorLedger -BaseUri $script:baseUri
        $ids = @($ledger.runs.messageId)
        $ids | Should -HaveCount 200
        $statuses | Should -HaveCount 200
        ($statuses.MessageId | Sort-Object -Unique) | Should -HaveCount 200
        (Compare-Object ($statuses.MessageId | Sort-Object) ($ids | Sort-Object)) | Should -BeNullOrEmpty
        $statuses | ForEach-Object { $_.IsTerminal | Should -BeTrue }
        $files | Should -HaveCount 400   # assets.zip and report.txt per run
        foreach ($id in $ids) {
            Join-Path $out $id 'report.txt' | Should -Exist
            Join-Path $out $id 'assets.zip' | Should -Exist
        }
        $portFree | Should -BeTrue

        # The faults happened; every run whose final webhook was dropped was looked up and still came out.
        $hooks = @($ledger.webhooks)
        $dropped = @($hooks | Where-Object failure -EQ 'dropped')
        $lostFinal = @($dropped | Where-Object status -NE 'processing' | ForEach-Object messageId)
        $duplicated = @($hooks | Where-Object { $_.copy -eq 2 } | ForEach-Object { "$($_.messageId)/$($_.status)" } | Sort-Object -Unique)
        $lostFinal.Count | Should -BeGreaterThan 0
        $duplicated.Count | Should -BeGreaterThan 20
        foreach ($id in $lostFinal) { $ledger.getsByRun.$id | Should -BeGreaterOrEqual 1 }
        $summary = Get-Content $verbose | Where-Object { $_ -match '^Receive-NenWebhook: ' } | Select-Object -Last 1
        $summary | Should -Match '(\d+) run\(s\) completed by polling'
        [int]($summary -replace '.* (\d+) run\(s\) completed by polling.*', '$1') | Should -BeGreaterOrEqual $lostFinal.Count
        $duplicatesDropped = [int]($summary -replace '.*\((\d+) duplicate\(s\).*', '$1')
        $byPolling = [int]($summary -replace '.* (\d+) run\(s\) completed by polling.*', '$1')
        $deliveries = @($hooks | Where-Object attempt -GT 0)
        Write-Host ("200 runs in {0:0.0} s (start, receive, download): {1} webhook deliveries ({2} answered 200), {3} updates duplicated, {4} updates dropped ({5} final); receiver: {6} duplicates dropped, {7} runs completed by polling; {8} status queries" -f
            $elapsed.TotalSeconds, $deliveries.Count, @($deliveries | Where-Object httpStatus -EQ 200).Count, $duplicated.Count, $dropped.Count, $lostFinal.Count,
            $duplicatesDropped, $byPolling, $ledger.requests.getRuns)
        Write-Host $summary
        Set-WebhookFaults @{}
    }

    It 'answers a forged post 401, a 10 MB body 413 and writes neither, and a stalled client delays no delivery' {
        $prefix = New-Prefix
        $port = ([uri]$prefix).Port
        $traffic = Start-ThreadJob -ArgumentList $prefix, $port, $script:secretText -ScriptBlock {
            param($Prefix, $Port, $SecretText)
            function Send([string] $Body, [string] $Signature) {
                $headers = @{}
                if ($Signature) { $headers['X-Hmac-Signature'] = $Signature }
                try { (Invoke-WebRequest -Uri $Prefix -Method Post -Body $Body -ContentType 'application/json' -Headers $headers -TimeoutSec 10 -SkipHttpErrorCheck).StatusCode }
                catch { 'failed: ' + $_.Exception.Message }
            }
            function Sign([string] $Secret, [string] $Body) {
                $hmac = [System.Security.Cryptography.HMACSHA256]::new([System.Text.Encoding]::UTF8.GetBytes($Secret))
                'sha256=' + ([System.Convert]::ToHexString($hmac.ComputeHash([System.Text.Encoding]::UTF8.GetBytes($Body)))).ToLowerInvariant()
            }
            function Head([long] $Length) { "POST /nen/ HTTP/1.1`r`nHost: 127.0.0.1:$Port`r`nContent-Type: application/json`r`nContent-Length: $Length`r`n`r`n" }
            $result = [ordered]@{}
            $body = '{"workflow_id":"w","message_id":"real-run","status":"success","expires_at":1730319600}'
            # Wait for the receiver: an unsigned probe is answered 401 once it listens.
            for ($i = 0; $i -lt 200 -and ($probe = Send '{}' $null) -ne 401; $i++) { Start-Sleep -Milliseconds 50 }
            $result.Probe = $probe
            $result.Unsigned = Send $body $null
            $result.WrongSecret = Send $body (Sign 'another-secret' $body)
            $result.Tampered = Send ($body -replace 'real-run', 'forged-run') (Sign $SecretText $body)
            # 10 MB declared, 64 KB sent, the rest never: the answer must not wait for it.
            $huge = [System.Net.Sockets.TcpClient]::new('127.0.0.1', $Port)
            $stream = $huge.GetStream()
            $bytes = [System.Text.Encoding]::ASCII.GetBytes((Head (10MB)))
            $stream.Write($bytes, 0, $bytes.Length)
            $stream.Write([byte[]]::new(64KB), 0, 64KB)
            $stream.ReadTimeout = 10000
            $reader = [System.IO.StreamReader]::new($stream)
            $result.Huge = $reader.ReadLine()
            $huge.Dispose()
            # Headers, then nothing: this client stalls while the real delivery is made.
            $stalled = [System.Net.Sockets.TcpClient]::new('127.0.0.1', $Port)
            $bytes = [System.Text.Encoding]::ASCII.GetBytes((Head 500) + '{"message_id":')
            $stalled.GetStream().Write($bytes, 0, $bytes.Length)
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $result.Real = Send $body (Sign $SecretText $body)
            $result.RealMs = $clock.ElapsedMilliseconds
            $stalled.Dispose()
            [pscustomobject]$result
        }

        $written = Receive-NenWebhook -Prefix $prefix -WebhookSecret $script:secret -IncludeProcessing -TimeoutSec 8 -WarningVariable warnings -WarningAction SilentlyContinue
        $portFree = Test-PrefixFree $prefix
        $result = $traffic | Wait-Job -Timeout 60 | Receive-Job
        $traffic | Remove-Job -Force

        $result.Probe | Should -Be 401
        $result.Unsigned | Should -Be 401
        $result.WrongSecret | Should -Be 401
        $result.Tampered | Should -Be 401
        $result.Huge | Should -Match '^HTTP/1.1 413'
        $result.Real | Should -Be 200
        $result.RealMs | Should -BeLessThan 1000
        @($written) | Should -HaveCount 1
        $written.MessageId | Should -Be 'real-run'
        $warnings | Where-Object { $_.Message -match 'refused \(401\)' } | Should -HaveCount 1
        $portFree | Should -BeTrue
    }

    It 'reports a run still going at -TimeoutSec as Wait-NenRun does and frees the port' {
        $prefix = New-Prefix
        $status = [pscustomobject]@{ NAME = 'slow' } |
            Start-NenRun -WorkflowId $script:slow -WebhookCallback $prefix |
            Receive-NenWebhook -Prefix $prefix -WebhookSecret $script:secret -TimeoutSec 2 -FallbackAfterSec 30 -ErrorVariable late -ErrorAction SilentlyContinue
        $portFree = Test-PrefixFree $prefix

        $status.TimedOut | Should -BeTrue
        $status.Status | Should -Be 'processing'
        $late[0].FullyQualifiedErrorId | Should -Be 'NenWaitTimeout,NenAi.Commands.ReceiveNenWebhookCommand'
        $portFree | Should -BeTrue
    }

    It 'frees the port at once on Ctrl+C (SIGINT to a child pwsh)' -Skip:$IsWindows {
        # Windows has no SIGINT to send to another console process; the hosted engine's PowerShell.Stop() covers it there.
        $prefix = New-Prefix
        $child = Join-Path $TestDrive 'child.ps1'
        @"
Import-Module '$script:manifest'
`$secret = [System.Net.NetworkCredential]::new('', '$script:secretText').SecurePassword
try {
    Receive-NenWebhook -Prefix '$prefix' -WebhookSecret `$secret -Verbose
}
finally {
    `$again = [System.Net.HttpListener]::new()
    `$again.Prefixes.Add('$prefix')
    # Straight to the console: output of a stopped pipeline is dropped.
    try { `$again.Start(); [Console]::WriteLine('PREFIX FREE IN FINALLY') } catch { [Console]::WriteLine("PREFIX BUSY: `$_") } finally { `$again.Close() }
}
"@ | Set-Content -Path $child
        # A pwsh started from a background job may inherit SIGINT as ignored: give it the default back, as a terminal has it.
        $dotnet = (Get-Command dotnet).Source
        $psi = [System.Diagnostics.ProcessStartInfo]::new('env')
        foreach ($a in '--default-signal=INT', $dotnet, (Join-Path $PSHOME 'pwsh.dll'), '-NoProfile', '-NonInteractive', '-File', $child) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $psi.UseShellExecute = $false
        foreach ($name in 'NEN_BASE_URL', 'NEN_API_KEY', 'NEN_SIGNING_KEY') { $psi.Environment[$name] = [Environment]::GetEnvironmentVariable($name) }
        $process = [System.Diagnostics.Process]::Start($psi)
        $errors = $process.StandardError.ReadToEndAsync()
        try {
            $lines = [System.Collections.Generic.List[string]]::new()
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while ([DateTime]::UtcNow -lt $deadline) {
                $read = $process.StandardOutput.ReadLineAsync()
                if (-not $read.Wait([TimeSpan]::FromSeconds(60)) -or $null -eq $read.Result) { break }
                $lines.Add($read.Result)
                if ($read.Result -match 'Listening on') { break }
            }
            $lines -join "`n" | Should -Match 'Listening on' -Because 'the child receiver says where it listens before it is interrupted'
            Test-PrefixFree $prefix | Should -BeFalse

            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            & kill -INT $process.Id
            $rest = $process.StandardOutput.ReadToEndAsync()
            $process.WaitForExit(30000) | Should -BeTrue
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 10
            $rest.Result | Should -Match 'PREFIX FREE IN FINALLY' -Because $errors.Result
            Test-PrefixFree $prefix | Should -BeTrue
        }
        finally {
            if (-not $process.HasExited) { $process.Kill() }
        }
    }

    It 'keeps a restarted receiver with the same state file from writing anything twice' {
        $prefix = New-Prefix
        $state = Join-Path $TestDrive 'webhooks.jsonl'
        $ids = 1..3 | ForEach-Object { [pscustomobject]@{ NAME = "restart $_" } } |
            Start-NenRun -WorkflowId $script:echo -WebhookCallback $prefix | ForEach-Object MessageId
        $first = $ids | Receive-NenWebhook -Prefix $prefix -WebhookSecret $script:secret -StatePath $state -FallbackAfterSec 2 -TimeoutSec 60
        $again = $ids | Receive-NenWebhook -Prefix $prefix -WebhookSecret $script:secret -StatePath $state -FallbackAfterSec 2 -TimeoutSec 60

        $first | Should -HaveCount 3
        $again | Should -BeNullOrEmpty
        Get-Content $state | Should -HaveCount 3
    }
}
