package com.seakeeper.rig.webhooks;

import com.google.gerrit.entities.Project;
import com.google.gerrit.server.config.PluginConfigFactory;
import com.google.gerrit.server.events.Event;
import com.google.gerrit.server.events.EventGson;
import com.google.gerrit.server.events.EventListener;
import com.google.gerrit.server.events.ProjectEvent;
import com.google.gson.Gson;
import com.google.inject.Inject;
import com.google.inject.Singleton;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.eclipse.jgit.lib.Config;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stand-in for Gerrit's webhooks plugin, whose release jar is not served by the package registry here.
 * It keeps the plugin's contract: remotes come from {@code webhooks.config} on a project's
 * {@code refs/meta/config} (inherited from parents), {@code event} lines filter by type (none = all),
 * the body is the event serialised by Gerrit's own event Gson (the same one stream-events uses), and a
 * delivery that fails or answers non-2xx is retried {@code maxTries} times, {@code retryInterval} ms apart.
 */
@Singleton
class Forwarder implements EventListener {
  private static final Logger log = LoggerFactory.getLogger(Forwarder.class);
  private static final String SECTION = "remote";

  private final PluginConfigFactory configs;
  private final Gson gson;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final ScheduledExecutorService executor = Executors.newScheduledThreadPool(2);

  @Inject
  Forwarder(PluginConfigFactory configs, @EventGson Gson gson) {
    this.configs = configs;
    this.gson = gson;
  }

  @Override
  public void onEvent(Event event) {
    if (!(event instanceof ProjectEvent)) {
      return;
    }
    Project.NameKey project = ((ProjectEvent) event).getProjectNameKey();
    Config cfg;
    try {
      cfg = configs.getProjectPluginConfigWithInheritance(project, "webhooks");
    } catch (Exception e) {
      log.warn("cannot read webhooks.config of {}", project.get(), e);
      return;
    }
    String body = gson.toJson(event);
    for (String remote : cfg.getSubsections(SECTION)) {
      String url = cfg.getString(SECTION, remote, "url");
      String[] events = cfg.getStringList(SECTION, remote, "event");
      if (url == null || (events.length > 0 && !Arrays.asList(events).contains(event.getType()))) {
        continue;
      }
      Delivery delivery = new Delivery(remote, URI.create(url), body,
          cfg.getInt(SECTION, remote, "maxTries", 5),
          cfg.getInt(SECTION, remote, "retryInterval", 1000),
          cfg.getInt(SECTION, remote, "connectionTimeout", 5000),
          cfg.getInt(SECTION, remote, "socketTimeout", 5000));
      executor.execute(() -> delivery.attempt(1));
    }
  }

  private final class Delivery {
    final String remote;
    final URI url;
    final String body;
    final int maxTries;
    final int retryInterval;
    final int socketTimeout;

    Delivery(String remote, URI url, String body, int maxTries, int retryInterval, int connectionTimeout,
        int socketTimeout) {
      this.remote = remote;
      this.url = url;
      this.body = body;
      this.maxTries = maxTries;
      this.retryInterval = retryInterval;
      this.socketTimeout = socketTimeout;
    }

    void attempt(int n) {
      String outcome;
      try {
        HttpRequest request = HttpRequest.newBuilder(url)
            .timeout(Duration.ofMillis(socketTimeout))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build();
        int status = http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
        if (status >= 200 && status < 300) {
          return;
        }
        outcome = "HTTP " + status;
      } catch (Exception e) {
        outcome = e.toString();
      }
      if (n < maxTries) {
        log.warn("webhook {} attempt {}/{} failed ({}); retrying", remote, n, maxTries, outcome);
        executor.schedule(() -> attempt(n + 1), retryInterval, TimeUnit.MILLISECONDS);
      } else {
        log.error("webhook {} gave up after {} attempts ({})", remote, n, outcome);
      }
    }
  }
}
