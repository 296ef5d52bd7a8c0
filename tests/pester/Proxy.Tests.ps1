#Requires -Version 7.4
# Proxies named as proxies, in real pwsh, through tests/fakes/fake_proxy.py (a Python standard-library proxy that
# refuses wrong credentials with 401 and its HTML page, as tinyproxy 1.10/1.11 does, or with 407, as squid does) and a
# proxy address where nothing listens, in front of the independent fake Nen server (tests/fakes/fake_nen.py) and the
# emulator. What the proxy refuses is one error naming the proxy and -Proxy/-ProxyCredential, never the API key, and is
# not retried; nothing reaches the service.

BeforeAll {
    $script:root = Resolve-Path (Join-Path $PSScriptRoot '../..')
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path $script:root 'tools/EmulatorProcess.psm1') -Force
    $script:manifest = Join-Path $script:root 'out/NenAi/NenAi.psd1'
    if (-not (Test-Path -LiteralPath $script:manifest)) { throw "Build the module first: ./build.ps1 -Task Build ($script:manifest is missing)." }
    $script:fake = Start-FakeNen
    $script:emulator = Start-EmulatorProcess -ConfigPath (Join-Path $PSScriptRoot 'emulator.pester.json')
    $script:tinyproxy = Start-FakeProxy -ArgumentList '--user', 'nightly', '--password', 'right-proxy-password', '--wrong-credentials', '401'
    $script:squid = Start-FakeProxy -ArgumentList '--user', 'nightly', '--password', 'right-proxy-password', '--wrong-credentials', '407'
    $script:policy = Start-FakeProxy -ArgumentList '--refuse-connect', '403'
    $script:down = Get-DownLoopbackUri
    $script:servers = @{
        fake     = @{ BaseUri = $script:fake.BaseUri; ApiKey = 'fake-api-key' }
        emulator = @{ BaseUri = $script:emulator.BaseUri; ApiKey = 'pester-api-key' }
    }

    <#
    .SYNOPSIS
        Runs <Body> in a fresh pwsh with the module, $c (a splat of -BaseUri, -ApiKey and -Proxy for <Server> through
        <Proxy>), $right and $wrong (proxy credentials) and $wf (the echo workflow); returns the run with Text.
    #>
    function Invoke-ThroughProxy {
        param([string] $Name, [string] $Server, [string] $Proxy, [string] $Body)
        $file = Join-Path $TestDrive "$Name.ps1"
        $target = $script:servers[$Server]
        Set-Content -LiteralPath $file -Value @"
`$ErrorActionPreference = 'Continue'
`$PSStyle.OutputRendering = 'PlainText'
Import-Module '$script:manifest' -ErrorAction Stop
`$c = @{ BaseUri = '$($target.BaseUri)'; ApiKey = (ConvertTo-SecureString '$($target.ApiKey)' -AsPlainText -Force); Proxy = '$Proxy'; NoProgress = `$true }
`$right = [pscredential]::new('nightly', (ConvertTo-SecureString 'right-proxy-password' -AsPlainText -Force))
`$wrong = [pscredential]::new('nightly', (ConvertTo-SecureString 'canary-wrong-proxy-password' -AsPlainText -Force))
`$wf = '11111111-1111-1111-1111-111111111111'
Set-Location -LiteralPath '$TestDrive'
$Body
"@
        $run = Invoke-FreshPwsh -File $file -WorkingDirectory $TestDrive -Environment @{ NEN_BASE_URL = $null; NEN_API_KEY = $null; NEN_SIGNING_KEY = $null; HTTP_PROXY = $null; HTTPS_PROXY = $null; ALL_PROXY = $null; NO_PROXY = $null }
        $run | Add-Member -NotePropertyName Text -NotePropertyValue (Remove-Ansi "$($run.Output)$($run.Errors)") -PassThru
    }

    # The headline pipeline, its errors collected; each error printed as one line: <id>|<message>. One row at a time, so
    # the proxy's ledger shows whether a refused request was sent again.
    $script:headline = @'
$stopped = $null
try {
    'JobId,NAME', '1,Ada', '2,Grace', '3,Alan' | ConvertFrom-Csv |
        Start-NenRun @c -ProxyCredential $wrong -WorkflowId $wf -ExcludeProperty JobId -ThrottleLimit 1 -ErrorVariable +rowErrors -ErrorAction SilentlyContinue |
        Wait-NenRun @c -ProxyCredential $wrong -PollIntervalSec 0.2 -TimeoutSec 30 -ErrorVariable +rowErrors -ErrorAction SilentlyContinue |
        Get-NenRunResult @c -ProxyCredential $wrong -Destination ./out -ErrorVariable +rowErrors -ErrorAction SilentlyContinue | Out-Null
}
catch { $stopped = $_ }
# Non-terminating errors are ErrorRecords in -ErrorVariable (which holds the terminating one as an exception); that one is caught.
$records = @(@($rowErrors) | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] }) + @($stopped | Where-Object { $_ })
'ERRORS ' + $records.Count
$records | ForEach-Object { 'ERROR ' + $_.FullyQualifiedErrorId + '|' + $_.Exception.Message }
'@}

AfterAll {
    Stop-FakeProxy $script:tinyproxy
    Stop-FakeProxy $script:squid
    Stop-FakeProxy $script:policy
    Stop-FakeNen $script:fake
    Stop-EmulatorProcess $script:emulator
}

Describe 'Proxies named as proxies (<_>)' -ForEach 'fake', 'emulator' {
    BeforeAll { $script:server = $_ }

    It 'a proxy that refuses wrong credentials with 401 and its page, as tinyproxy does: one NenProxyAuthenticationRequired naming the proxy, no retry, nothing sent' {
        $before = Get-FakeProxyLedger $script:tinyproxy
        $run = Invoke-ThroughProxy "tiny-$script:server" $script:server $script:tinyproxy.Uri $script:headline
        $after = Get-FakeProxyLedger $script:tinyproxy

        $run.ExitCode | Should -Be 0 -Because $run.Text
        $run.Output | Should -Match '(?m)^ERRORS 1\s*$' -Because $run.Text
        $line = @($run.Output -split "`r?`n" | Where-Object { $_ -like 'ERROR *' })[0]
        $line | Should -Match '^ERROR NenProxyAuthenticationRequired,NenAi\.Commands\.StartNenRunCommand\|'
        $line | Should -Match ([regex]::Escape("the proxy $($script:tinyproxy.Uri)/"))
        $line | Should -Match '-ProxyCredential'
        $line | Should -Match '-Proxy\b'
        $line | Should -Match 'tinyproxy'            # the proxy's own page, in a few words
        $line | Should -Not -Match 'API key was refused|-ApiKey|NEN_API_KEY'
        $line | Should -Match 'The proxy credentials were refused'
        $run.Text | Should -Not -Match 'canary-wrong-proxy-password'
        ($after.refused - $before.refused) | Should -Be 1 -Because 'a refusal is not retried'
        ($after.forwarded - $before.forwarded) | Should -Be 0
    }

    It 'a batch of 40 rows through it: one error, and no more requests refused than were in flight' {
        $before = Get-FakeProxyLedger $script:tinyproxy
        $run = Invoke-ThroughProxy "tiny-40-$script:server" $script:server $script:tinyproxy.Uri @'
$stopped = $null
try { 1..40 | ForEach-Object { [pscustomobject]@{ NAME = "row $_" } } | Start-NenRun @c -ProxyCredential $wrong -WorkflowId $wf -ErrorVariable rowErrors -ErrorAction SilentlyContinue | Out-Null }
catch { $stopped = $_ }
$errors = @(@($rowErrors) | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] }) + @($stopped | Where-Object { $_ })
'ERRORS ' + $errors.Count
'ERROR ' + $errors[0].FullyQualifiedErrorId
'@
        $after = Get-FakeProxyLedger $script:tinyproxy
        # The batch's stop is one error, written last (not terminating: the runs started before it stay in hand).
        $run.Output | Should -Match '(?m)^ERRORS 1\s*$' -Because $run.Text
        $run.Output | Should -Match 'ERROR NenProxyAuthenticationRequired,NenAi.Commands.StartNenRunCommand'
        ($after.refused - $before.refused) | Should -BeLessOrEqual 8 -Because 'at most -ThrottleLimit (8) requests were on the wire when the first refusal came back'
    }

    It 'the same proxy with the right credentials carries the whole batch' {
        $run = Invoke-ThroughProxy "tiny-right-$script:server" $script:server $script:tinyproxy.Uri @'
$files = 'NAME', 'Ada', 'Grace' | ConvertFrom-Csv |
    Start-NenRun @c -ProxyCredential $right -WorkflowId $wf |
    Wait-NenRun @c -ProxyCredential $right -PollIntervalSec 0.2 -TimeoutSec 60 |
    Get-NenRunResult @c -ProxyCredential $right -Destination ./right
'FILES ' + @($files).Count
'@
        $run.ExitCode | Should -Be 0 -Because $run.Text
        $run.Errors | Should -BeNullOrEmpty
        $run.Output | Should -Match 'FILES [1-9]'
    }

    It 'Get-NenRun and Wait-NenRun through it: one error each, naming the proxy' {
        $run = Invoke-ThroughProxy "tiny-read-$script:server" $script:server $script:tinyproxy.Uri @'
$ids = 1..5 | ForEach-Object { [guid]::NewGuid().ToString() }
foreach ($command in 'Get-NenRun', 'Wait-NenRun') {
    $rowErrors = @(); $stopped = $null
    try { $ids | & $command @c -ProxyCredential $wrong -ErrorVariable rowErrors -ErrorAction SilentlyContinue | Out-Null } catch { $stopped = $_ }
    $records = @(@($rowErrors) | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] }) + @($stopped | Where-Object { $_ })
    "$command ERRORS $($records.Count): " + ($records | ForEach-Object { $_.FullyQualifiedErrorId + '|' + $_.Exception.Message })
}
'@
        $run.ExitCode | Should -Be 0 -Because $run.Text
        $run.Output | Should -Match "Get-NenRun ERRORS 1: NenProxyAuthenticationRequired,NenAi\.Commands\.GetNenRunCommand\|.*the proxy $([regex]::Escape($script:tinyproxy.Uri))"
        $run.Output | Should -Match "Wait-NenRun ERRORS 1: NenProxyAuthenticationRequired,NenAi\.Commands\.WaitNenRunCommand\|.*the proxy $([regex]::Escape($script:tinyproxy.Uri))"
        $run.Output | Should -Not -Match 'API key was refused'
    }

    It 'a proxy that cannot be reached: one NenNetworkError that names the proxy and -Proxy, not the service or the API key' {
        $run = Invoke-ThroughProxy "down-$script:server" $script:server $script:down $script:headline
        $run.ExitCode | Should -Be 0 -Because $run.Text
        $run.Output | Should -Match '(?m)^ERRORS 1\s*$' -Because $run.Text
        $line = @($run.Output -split "`r?`n" | Where-Object { $_ -like 'ERROR *' })[0]
        $line | Should -Match '^ERROR NenNetworkError,NenAi\.Commands\.StartNenRunCommand\|'
        $line | Should -Match ([regex]::Escape("could not connect to the proxy $script:down/"))
        $line | Should -Match '-Proxy'
        $line | Should -Not -Match 'The service refused|API key'
    }
}

Describe 'Proxies that refuse a tunnel (https)' {
    It 'a 401 to the CONNECT, as tinyproxy answers wrong credentials: one NenProxyAuthenticationRequired at once, no retry' {
        $before = Get-FakeProxyLedger $script:tinyproxy
        # No server is needed behind it: the proxy refuses before it opens the tunnel.
        $run = Invoke-ThroughProxy tunnel-401 fake $script:tinyproxy.Uri ('$c.BaseUri = ''https://127.0.0.1:9/''' + "`n" + $script:headline)
        $after = Get-FakeProxyLedger $script:tinyproxy
        $run.Output | Should -Match '(?m)^ERRORS 1\s*$' -Because $run.Text
        $run.Output | Should -Match "ERROR NenProxyAuthenticationRequired,NenAi\.Commands\.StartNenRunCommand\|.*the proxy $([regex]::Escape($script:tinyproxy.Uri)).*HTTP 401"
        ($after.refused - $before.refused) | Should -Be 1 -Because 'the refusal was not retried'
    }

    It 'a 407 to the CONNECT, as squid answers: the same' {
        $before = Get-FakeProxyLedger $script:squid
        $run = Invoke-ThroughProxy tunnel-407 fake $script:squid.Uri ('$c.BaseUri = ''https://127.0.0.1:9/''' + "`n" + $script:headline)
        $after = Get-FakeProxyLedger $script:squid
        $run.Output | Should -Match '(?m)^ERRORS 1\s*$' -Because $run.Text
        $run.Output | Should -Match "ERROR NenProxyAuthenticationRequired,NenAi\.Commands\.StartNenRunCommand\|.*the proxy $([regex]::Escape($script:squid.Uri)).*HTTP 407"
        # The first request asks without credentials (the challenge), the second with the wrong ones; nothing after.
        ($after.challenged - $before.challenged) | Should -Be 2
    }

    It 'a tunnel the proxy refuses by policy (403): one NenNetworkError naming the proxy, at once' {
        $before = Get-FakeProxyLedger $script:policy
        $run = Invoke-ThroughProxy tunnel-403 fake $script:policy.Uri ('$c.BaseUri = ''https://127.0.0.1:9/''' + "`n" + $script:headline.Replace('-ProxyCredential $wrong ', ''))
        $after = Get-FakeProxyLedger $script:policy
        $run.Output | Should -Match '(?m)^ERRORS 1\s*$' -Because $run.Text
        $run.Output | Should -Match "ERROR NenNetworkError,NenAi\.Commands\.StartNenRunCommand\|.*the proxy $([regex]::Escape($script:policy.Uri)).*refused to open a tunnel.*HTTP 403"
        $run.Output | Should -Not -Match 'API key'
        ($after.tunnelsRefused - $before.tunnelsRefused) | Should -Be 1
    }
}
