// A client in another language, built only from the files in proto/: plans one order.
// Usage: node plan_order.js HOST:PORT PROTO_DIR ORDER_JSON
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const [target, protoDir, orderJson] = process.argv.slice(2);
const definition = protoLoader.loadSync('omniroute/v1/routing_service.proto', {
  includeDirs: [protoDir], keepCase: false, longs: String, enums: String, defaults: false, oneofs: true,
});
const omniroute = grpc.loadPackageDefinition(definition).omniroute.v1;
const client = new omniroute.RoutingService(target, grpc.credentials.createInsecure());
const request = { order: JSON.parse(orderJson), policy: 'CHEAPEST', includeOptions: true };
client.PlanOrder(request, { deadline: Date.now() + 20000 }, (error, response) => {
  if (error) {
    console.error(error.code, error.details);
    process.exit(1);
  }
  console.log(JSON.stringify(response));
  client.close();
});
