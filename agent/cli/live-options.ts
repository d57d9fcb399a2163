/** Options shared by the commands that read a live cluster. */
export interface LiveOptions {
  namespace: string;
  rollout: string;
  kubeconfig?: string;
  context?: string;
}
