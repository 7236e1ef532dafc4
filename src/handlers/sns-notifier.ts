import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { loadNotifyConfig, type NotifyConfig } from "../app/config.js";
import type { Notifier } from "../app/notify.js";
import { lazy } from "./runtime.js";

/**
 * The stack's SNS topic as the run's notifier (report.md §11): one Publish per message, the
 * subject for e-mail subscribers, the text as the message (e-mail, chat and queue subscribers
 * all get it as is). Only Publish and RecordFailure import this, so the API's bundles carry no
 * SNS client.
 */

export function snsNotifier(topicArn: string, client: SNSClient = new SNSClient({})): Notifier {
  return {
    async publish({ subject, text }) {
      await client.send(
        new PublishCommand({ TopicArn: topicArn, Subject: subject, Message: text }),
      );
    },
  };
}

/** The function's notification settings and notifier, read from its environment once. */
export const notify = {
  config: lazy((): NotifyConfig => loadNotifyConfig(process.env)),
  notifier: lazy((): Notifier | undefined => {
    const { topicArn } = notify.config();
    return topicArn === null ? undefined : snsNotifier(topicArn);
  }),
};
